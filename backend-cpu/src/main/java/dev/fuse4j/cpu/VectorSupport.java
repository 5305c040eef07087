package dev.fuse4j.cpu;

import dev.fuse4j.Backend;

/**
 * Decides whether the Vector API path can run in this JVM, without loading any Vector API class when it cannot
 * (the classes that use it are only touched from {@link #create}).
 */
final class VectorSupport {
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

    static Backend create(String name) {
        return new VectorCpuBackend(name, Runtime.getRuntime().availableProcessors());
    }
}
