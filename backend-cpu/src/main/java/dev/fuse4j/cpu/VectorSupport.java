package dev.fuse4j.cpu;

import dev.fuse4j.Backend;

/** Decides whether the Vector API path can run in this JVM, without loading any Vector API class when it cannot. */
final class VectorSupport {
    private VectorSupport() {
    }

    /** Null when the Vector API path can run, else the reason it cannot. */
    static String unavailableReason() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return "module jdk.incubator.vector is not in the boot layer (start java with --add-modules "
                    + "jdk.incubator.vector)";
        }
        return "the Vector API path is not in this build yet";
    }

    static Backend create(String name) {
        throw new IllegalStateException("Vector API path requested for " + name + " but " + unavailableReason());
    }
}
