package dev.fuse4j.cpu;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendUnavailableException;

/**
 * Decides whether the Vector API path can run in this JVM, without loading any Vector API class when it cannot
 * (the classes that use it are only touched from {@link #create}).
 */
final class VectorSupport {
    private static final System.Logger LOG = System.getLogger(VectorSupport.class.getName());

    private VectorSupport() {
    }

    /** Null when the Vector API path can run, else the reason it cannot. */
    static String unavailableReason() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return "module jdk.incubator.vector is not in the boot layer (start java with --add-modules "
                    + "jdk.incubator.vector)";
        }
        try {
            VectorCpuBackend.selfCheck();
            return null;
        } catch (RuntimeException | LinkageError e) {
            return "the Vector API failed its self-check: " + e;
        }
    }

    /**
     * The Vector API backend as {@link Tuning} and the {@code fuse4j.cpu} options set it up, logged in one line, with
     * its kernels warming up in the background; a {@link BackendUnavailableException} when an option cannot be
     * honoured.
     */
    static Backend create(String name) {
        if (Tuning.OPTION_PROBLEM != null) {
            throw new BackendUnavailableException(name + ": " + Tuning.OPTION_PROBLEM);
        }
        WorkerPool pool;
        try {
            pool = WorkerPool.shared();
        } catch (IllegalArgumentException e) {
            throw new BackendUnavailableException(name + ": " + e.getMessage());
        }
        LOG.log(System.Logger.Level.INFO, "{0}: {1}, {2} threads", name, Tuning.describe(Tuning.BLOCKING),
                pool.threads());
        return new VectorCpuBackend(name, pool, Tuning.BLOCKING, KernelWarmup.start(Tuning.BLOCKING));
    }
}
