package dev.fuse4j.cuda;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendStatus;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.DeviceKind;
import dev.fuse4j.spi.BackendProvider;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code cuda}, {@code cuda:N}: NVIDIA GPUs through the JCuda driver API. The driver is loaded once per JVM; each
 * device is opened once (one context, one loaded module, one buffer pool), as {@link dev.fuse4j.Backends} keeps it.
 */
public final class CudaProvider implements BackendProvider {
    public static final String NAME = "cuda";
    private static final System.Logger LOG = System.getLogger(CudaProvider.class.getName());

    private volatile CudaDriver driver;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 300;
    }

    @Override
    public List<BackendStatus> probe() {
        CudaDriver d = driver();
        if (d.unavailableReason() != null) {
            return List.of(BackendStatus.unavailable(NAME, d.unavailableReason(), d.unavailableCause()));
        }
        List<BackendStatus> out = new ArrayList<>();
        for (CudaDriver.DeviceInfo info : d.devices()) {
            out.add(BackendStatus.available(NAME + ":" + info.ordinal(), info.describe(d.driverVersion()),
                    DeviceKind.GPU));
        }
        return out;
    }

    @Override
    public Backend open(int index) {
        CudaDriver d = driver();
        if (d.unavailableReason() != null) {
            throw new BackendUnavailableException(NAME + ": " + d.unavailableReason(), d.unavailableCause());
        }
        if (index >= d.devices().size()) {
            throw new BackendUnavailableException(NAME + ":" + index + " does not exist: " + d.devices().size()
                    + " CUDA device(s) found");
        }
        CudaDriver.DeviceInfo info = d.devices().get(index);
        String name = NAME + ":" + index;
        CudaDevice device = null;
        CudaBackend b;
        try {
            device = new CudaDevice(name, info, d.driverVersion());
            b = new CudaBackend(name, device);
        } catch (IllegalStateException e) {
            // The device exists but cannot be used here (driver too old for the PTX, no memory, exclusive
            // mode): unavailable, so that select() moves on to the next backend.
            if (device != null) {
                device.abandon();
            }
            throw new BackendUnavailableException(name + " could not be opened: " + e.getMessage(), e);
        }
        LOG.log(System.Logger.Level.INFO, "Fuse4J opened {0}: {1}", name, info.describe(d.driverVersion()));
        return b;
    }

    private CudaDriver driver() {
        CudaDriver d = driver;
        if (d == null) {
            synchronized (this) {
                d = driver;
                if (d == null) {
                    driver = d = CudaDriver.load();
                }
            }
        }
        return d;
    }
}
