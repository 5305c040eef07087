package dev.fuse4j.opencl;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.contract.BackendContract;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Nested;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The contract suite once per GEMM tile tier, each tier forced alone on the first OpenCL device (PoCL in CI). A
 * device picks at most two tiers, so without this the GPU tiers would never run on a CPU device, and the CPU tiers
 * for vectors narrower than this machine's would never run here. The device's own tiers run here too, alone (the
 * device mixes two), so that CI skips nothing. A tier's suite is skipped, with the reason, only where the device
 * cannot hold it; without a device it fails where FUSE4J_REQUIRE names opencl, as every OpenCL suite does.
 */
class TileTierContractTest {
    private static final Map<TileConfig, Backend> FORCED = new ConcurrentHashMap<>();
    private static volatile ClDevice device;

    /** A backend whose GEMM uses {@code tier} for every product, on one device shared by all tiers. */
    static Backend forced(TileConfig tier) {
        ClDevice dev = device();
        // Not a missing device: a property of the one there is, so a skip even where opencl is required.
        Assumptions.assumeTrue(tier.fits(dev.info.maxWorkGroupSize(), dev.info.localMemBytes()),
                () -> "tiles " + tier + " do not fit " + dev.info.describe());
        return FORCED.computeIfAbsent(tier, t -> new OpenClBackend("opencl:0 tiles " + t, dev, List.of(t)));
    }

    private static synchronized ClDevice device() {
        if (device == null) {
            ClDiscovery d = ClDiscovery.run();
            if (d.unavailableReason() != null) {
                throw new BackendUnavailableException(d.unavailableReason(), d.unavailableCause());
            }
            device = new ClDevice(d.devices().get(0));
        }
        return device;
    }

    @Nested
    class Gpu128x128 extends BackendContract {
        @Override
        protected Backend createBackend() {
            return forced(TileConfig.GPU.get(0));
        }
    }

    @Nested
    class Gpu64x64 extends BackendContract {
        @Override
        protected Backend createBackend() {
            return forced(TileConfig.GPU.get(1));
        }
    }

    @Nested
    class Gpu32x32In8x8Groups extends BackendContract {
        @Override
        protected Backend createBackend() {
            return forced(TileConfig.GPU.get(2));
        }
    }

    @Nested
    class SingleWorkItem extends BackendContract {
        @Override
        protected Backend createBackend() {
            return forced(TileConfig.GPU.get(3));
        }
    }

    @Nested
    class Cpu16Wide extends BackendContract {
        @Override
        protected Backend createBackend() {
            return forced(TileConfig.cpu(16).get(0));
        }
    }

    @Nested
    class Cpu8Wide extends BackendContract {
        @Override
        protected Backend createBackend() {
            return forced(TileConfig.cpu(8).get(0));
        }
    }

    @Nested
    class Cpu4Wide extends BackendContract {
        @Override
        protected Backend createBackend() {
            return forced(TileConfig.cpu(4).get(0));
        }
    }
}
