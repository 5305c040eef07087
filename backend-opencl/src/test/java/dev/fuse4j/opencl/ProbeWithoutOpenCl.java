package dev.fuse4j.opencl;

import dev.fuse4j.BackendStatus;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Backends;

/**
 * Run by {@link NoOpenClPlatformTest} in a JVM whose ICD loader sees no vendor, and by {@link SignalChainingTest}:
 * prints what a user would see.
 */
final class ProbeWithoutOpenCl {
    private ProbeWithoutOpenCl() {
    }

    public static void main(String[] args) {
        for (BackendStatus s : Backends.probe()) {
            if (s.name().startsWith("opencl")) {
                System.out.println("probe: " + s);
                System.out.println("probe cause: " + s.cause());
            }
        }
        try {
            Backends.get("opencl");
            System.out.println("get: opened");
        } catch (BackendUnavailableException e) {
            System.out.println("get: " + e.getMessage());
            System.out.println("get cause: " + e.getCause());
        }
    }
}
