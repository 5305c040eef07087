package dev.fuse4j.spark;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Backends;
import dev.fuse4j.cpu.CpuThreads;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The backend a task runs on. In order: the backend the job names; else the explicit choice of the executor's
 * JVM ({@code fuse4j.backend} or {@code FUSE4J_BACKEND}, set with {@code spark.executorEnv.FUSE4J_BACKEND});
 * else, where Spark schedules GPUs, the CUDA device of the task's first {@code gpu} address; else
 * {@link Backends#select()}. Backends are opened once per JVM and shared by its tasks.
 *
 * <p>On an executor (not the driver) whose JVM sets no thread count for the {@code cpu} backend
 * ({@code fuse4j.cpu.threads} or {@code FUSE4J_CPU_THREADS}), the first task sets {@code fuse4j.cpu.threads} to
 * {@code spark.task.cpus} before any backend is opened, so the backend keeps to the cores Spark gave its tasks
 * rather than taking every core of the host.
 */
final class ExecutorBackends {
    private static final System.Logger LOG = System.getLogger(ExecutorBackends.class.getName());

    /** The resource name Spark's GPU scheduling uses ({@code spark.task.resource.gpu.amount}). */
    static final String GPU = "gpu";

    private ExecutorBackends() {
    }

    /** The backend for the running task (or for the driver, outside a task). */
    static Backend forTask(String requested) {
        capCpuThreads();
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

    private static synchronized void capCpuThreads() {
        SparkEnv env = SparkEnv.get();
        if (env == null) {
            return;
        }
        String threads = cpuThreads(System.getProperty(CpuThreads.PROPERTY), System.getenv(CpuThreads.ENV),
                env.executorId(), env.conf().get("spark.task.cpus", "1"));
        if (threads != null) {
            System.setProperty(CpuThreads.PROPERTY, threads);
            LOG.log(System.Logger.Level.INFO, "executor " + env.executorId() + ": the cpu backend runs on "
                    + threads + " threads (spark.task.cpus)");
        }
    }

    /**
     * The {@code fuse4j.cpu.threads} an executor sets: {@code taskCpus} on an executor whose JVM has no setting
     * ({@code property}, {@code env}) of its own; null (leave it) on the driver or where one is set.
     */
    static String cpuThreads(String property, String env, String executorId, String taskCpus) {
        if (property != null || env != null || executorId == null || executorId.equals("driver")) {
            return null;
        }
        return taskCpus.trim();
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
