package dev.fuse4j.spark;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Backends;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The backend a task runs on. In order: the backend the job names; else the explicit choice of the executor's
 * JVM ({@code fuse4j.backend} or {@code FUSE4J_BACKEND}, set with {@code spark.executorEnv.FUSE4J_BACKEND});
 * else, where Spark schedules GPUs, the CUDA device of the task's first {@code gpu} address; else
 * {@link Backends#select()}. Backends are opened once per JVM and shared by its tasks.
 */
final class ExecutorBackends {
    private static final System.Logger LOG = System.getLogger(ExecutorBackends.class.getName());

    /** The resource name Spark's GPU scheduling uses ({@code spark.task.resource.gpu.amount}). */
    static final String GPU = "gpu";

    private ExecutorBackends() {
    }

    /** The backend for the running task (or for the driver, outside a task). */
    static Backend forTask(String requested) {
        String[] gpus = new String[0];
        TaskContext tc = TaskContext.get();
        if (tc != null) {
            ResourceInformation gpu = tc.resourcesJMap().get(GPU);
            if (gpu != null) {
                gpus = gpu.addresses();
            }
        }
        String name = choose(requested, Backends.explicitChoice(), gpus);
        if (name == null) {
            return Backends.select();
        }
        if (requested == null && Backends.explicitChoice() == null) {
            try {
                return Backends.get(name);
            } catch (BackendUnavailableException e) {
                LOG.log(System.Logger.Level.WARNING, "Spark gave this task GPU " + name + ", which cannot run "
                        + "here (" + e.getMessage() + "); choosing a backend as on any machine");
                return Backends.select();
            }
        }
        return Backends.get(name);
    }

    /**
     * The backend name to open, or null for {@link Backends#select()}: {@code requested}; else null when the JVM
     * has an explicit choice (select honours it); else {@code cuda:<first address>} when Spark gave the task GPUs.
     */
    static String choose(String requested, String explicitChoice, String[] gpuAddresses) {
        if (requested != null) {
            return requested;
        }
        if (explicitChoice != null || gpuAddresses.length == 0) {
            return null;
        }
        return "cuda:" + gpuAddresses[0].trim();
    }
}
