package dev.fuse4j.opencl;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendStatus;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.DeviceKind;
import dev.fuse4j.spi.BackendProvider;

import java.util.ArrayList;
import java.util.List;

/** {@code opencl}, {@code opencl:N}: every OpenCL device, GPUs first. Discovery runs once per JVM. */
public final class OpenClProvider implements BackendProvider {
    public static final String NAME = "opencl";
    private static final System.Logger LOG = System.getLogger(OpenClProvider.class.getName());

    private volatile ClDiscovery discovery;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 200;
    }

    @Override
    public List<BackendStatus> probe() {
        ClDiscovery d = discovery();
        if (d.unavailableReason() != null) {
            return List.of(BackendStatus.unavailable(NAME, d.unavailableReason(), d.unavailableCause()));
        }
        List<BackendStatus> out = new ArrayList<>();
        for (int i = 0; i < d.devices().size(); i++) {
            out.add(BackendStatus.available(NAME + ":" + i, d.devices().get(i).describe(), kind(d.devices().get(i))));
        }
        return out;
    }

    @Override
    public Backend open(int index) {
        ClDiscovery d = discovery();
        if (d.unavailableReason() != null) {
            throw new BackendUnavailableException(NAME + ": " + d.unavailableReason(), d.unavailableCause());
        }
        if (index >= d.devices().size()) {
            throw new BackendUnavailableException(NAME + ":" + index + " does not exist: " + d.devices().size()
                    + " OpenCL device(s) found (" + NAME + ":0 .. " + NAME + ":" + (d.devices().size() - 1) + ")");
        }
        ClDeviceInfo info = d.devices().get(index);
        OpenClBackend b = new OpenClBackend(NAME + ":" + index, new ClDevice(info));
        LOG.log(System.Logger.Level.INFO, "Fuse4J opened {0}: {1}", b.name(), b.device());
        for (int i = 0; i < d.devices().size(); i++) {
            if (i != index) {
                LOG.log(System.Logger.Level.DEBUG, "{0}:{1} not opened ({2} was asked for; devices are numbered "
                        + "GPUs first, then accelerators, then CPUs): {3}", NAME, i, b.name(),
                        d.devices().get(i).describe());
            }
        }
        return b;
    }

    /** A CPU device (PoCL) is ranked after the Java cpu backend by select(); anything not a GPU or CPU offloads. */
    private static DeviceKind kind(ClDeviceInfo info) {
        return switch (info.rank()) {
            case ClDeviceInfo.RANK_GPU -> DeviceKind.GPU;
            case ClDeviceInfo.RANK_CPU -> DeviceKind.CPU;
            default -> DeviceKind.ACCELERATOR;
        };
    }

    private ClDiscovery discovery() {
        ClDiscovery d = discovery;
        if (d == null) {
            synchronized (this) {
                d = discovery;
                if (d == null) {
                    discovery = d = ClDiscovery.run();
                }
            }
        }
        return d;
    }
}
