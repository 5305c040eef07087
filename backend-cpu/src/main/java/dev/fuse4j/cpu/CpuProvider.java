package dev.fuse4j.cpu;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendStatus;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.spi.BackendProvider;

import java.util.List;

/**
 * {@code cpu}: the Vector API path where {@code jdk.incubator.vector} is present, else the scalar path with one log
 * line saying why. Available on every machine, the fallback they all have, unless a {@code fuse4j.cpu} option asks
 * for what this one cannot do (a vector width wider than the JVM's own, an unknown kernel, a bad thread count).
 */
public final class CpuProvider implements BackendProvider {

    public static final String NAME = "cpu";
    private static final System.Logger LOG = System.getLogger(CpuProvider.class.getName());

    private volatile Backend instance;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public List<BackendStatus> probe() {
        try {
            return List.of(BackendStatus.available(NAME, backend().device()));
        } catch (BackendUnavailableException e) {
            return List.of(BackendStatus.unavailable(NAME, e.getMessage(), e));
        }
    }

    @Override
    public Backend open(int index) {
        if (index != 0) {
            throw new BackendUnavailableException(NAME + ":" + index + " does not exist: the CPU is device 0 only");
        }
        return backend();
    }

    private Backend backend() {
        Backend b = instance;
        if (b == null) {
            synchronized (this) {
                b = instance;
                if (b == null) {
                    instance = b = create();
                }
            }
        }
        return b;
    }

    private static Backend create() {
        String why = VectorSupport.unavailableReason();
        if (why == null) {
            return VectorSupport.create(NAME);
        }
        LOG.log(System.Logger.Level.WARNING, "Fuse4J cpu backend uses the scalar path: {0}", why);
        return new ScalarCpuBackend(NAME);
    }
}
