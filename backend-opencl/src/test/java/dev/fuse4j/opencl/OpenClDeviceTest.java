package dev.fuse4j.opencl;

import dev.fuse4j.BackendStatus;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Backends;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Discovery order, tile choice, probe text and error messages of the OpenCL backend. */
class OpenClDeviceTest {

    @Test
    void gpusComeBeforeAcceleratorsBeforeCpus() {
        assertEquals(0, info(CL_DEVICE_TYPE_GPU).rank());
        assertEquals(1, info(CL_DEVICE_TYPE_ACCELERATOR).rank());
        assertEquals(2, info(CL_DEVICE_TYPE_CPU).rank());
        assertEquals("GPU", info(CL_DEVICE_TYPE_GPU).typeName());
    }

    private static ClDeviceInfo info(long type) {
        return new ClDeviceInfo(null, null, "platform", "dev", "vendor", "OpenCL 3.0", type, 8, 1L << 30, 65536, 1024);
    }

    @Test
    void tilesFollowTheDeviceLimits() {
        assertEquals(new TileConfig(64, 64, 16, 4), TileConfig.choose(1024, 65536));
        assertEquals(new TileConfig(32, 32, 16, 4), TileConfig.choose(128, 65536));
        assertEquals(new TileConfig(32, 32, 16, 4), TileConfig.choose(1024, 6000), "8 KiB of tiles do not fit");
        assertEquals(new TileConfig(4, 4, 4, 4), TileConfig.choose(1, 1024));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> TileConfig.choose(1, 8));
        assertTrue(e.getMessage().contains("8 bytes"), e.getMessage());
        assertEquals("-DTM=64 -DTN=64 -DTK=16 -DRM=4", new TileConfig(64, 64, 16, 4).buildOptions());
    }

    @Test
    void probeDescribesEveryDeviceOrSaysWhyNone() {
        List<BackendStatus> opencl = Backends.probe().stream().filter(s -> s.name().startsWith("opencl")).toList();
        assertTrue(!opencl.isEmpty());
        for (BackendStatus s : opencl) {
            if (s.available()) {
                assertTrue(s.device().contains("compute units") && s.device().contains("platform"), s.device());
            } else {
                assertTrue(s.reason().contains("OpenCL"), s.reason());
            }
        }
    }

    @Test
    void aDeviceNumberPastTheEndIsRefusedWithTheCount() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> Backends.get("opencl:99"));
        assertTrue(e.getMessage().contains("opencl"), e.getMessage());
    }

    @Test
    void aBrokenProgramReportsTheBuildLogAndDevice() {
        ClDiscovery d = ClDiscovery.run();
        Assumptions.assumeTrue(d.unavailableReason() == null, () -> "no OpenCL device: " + d.unavailableReason());
        ClDevice dev = new ClDevice(d.devices().get(0));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> dev.buildForDiagnostics("__kernel void k(__global float *a) { a[0] = undefined_name; }", ""));
        assertTrue(e.getMessage().contains(d.devices().get(0).name()), e.getMessage());
        assertTrue(e.getMessage().contains("undefined_name"), "the compiler's log names the problem: " + e.getMessage());
    }
}
