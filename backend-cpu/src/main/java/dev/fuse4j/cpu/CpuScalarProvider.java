package dev.fuse4j.cpu;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendStatus;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.spi.BackendProvider;

import java.util.List;

/**
 * {@code cpu-scalar}: the oracle path on its own, for cross-checks and as a baseline row in {@code compare}.
 * Lowest priority, so {@code select()} never prefers it over {@code cpu}.
 */
public final class CpuScalarProvider implements BackendProvider {

    public static final String NAME = "cpu-scalar";
    private static final ScalarCpuBackend INSTANCE = new ScalarCpuBackend(NAME);

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public List<BackendStatus> probe() {
        return List.of(BackendStatus.available(NAME, INSTANCE.device()));
    }

    @Override
    public Backend open(int index) {
        if (index != 0) {
            throw new BackendUnavailableException(NAME + ":" + index + " does not exist: the CPU is device 0 only");
        }
        return INSTANCE;
    }
}
