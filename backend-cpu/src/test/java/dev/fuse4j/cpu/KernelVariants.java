package dev.fuse4j.cpu;

import dev.fuse4j.BackendUnavailableException;

import java.util.EnumMap;
import java.util.Map;

/**
 * One Vector API backend per {@link Microkernel}, at this JVM's vector width (the build runs the suites again with
 * {@code fuse4j.cpu.vectorBits} at each narrower width), so the suites judge every kernel on any machine. Made once
 * per kernel and kept: a backend is cheap, but the suites open it before every test.
 */
final class KernelVariants {
    private static final Map<Microkernel, VectorCpuBackend> BACKENDS = new EnumMap<>(Microkernel.class);

    private KernelVariants() {
    }

    /**
     * The shared-pool backend with {@code kernel} and the blocking {@link Tuning} chose; unavailable, with the
     * reason, when this JVM's {@code fuse4j.cpu} options cannot be honoured (a width wider than the machine's).
     */
    static synchronized VectorCpuBackend backend(Microkernel kernel) {
        if (Tuning.OPTION_PROBLEM != null) {
            throw new BackendUnavailableException(Tuning.OPTION_PROBLEM);
        }
        return BACKENDS.computeIfAbsent(kernel,
                k -> new VectorCpuBackend("cpu", WorkerPool.shared(), Tuning.BLOCKING.with(k), KernelWarmup.none()));
    }
}
