package dev.fuse4j.opencl;

import dev.fuse4j.BackendStatus;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Backends;
import dev.fuse4j.contract.Required;
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
        return info(type, 1024, 65536, 1);
    }

    private static ClDeviceInfo info(long type, long maxWorkGroup, long localMem, int vectorWidth) {
        return new ClDeviceInfo(null, null, "platform", "dev", "vendor", "OpenCL 3.0", type, 8, 1L << 30, localMem,
                maxWorkGroup, vectorWidth);
    }

    @Test
    void tilesFollowTheDeviceLimits() {
        List<TileConfig> gpu = TileConfig.tiersFor(info(CL_DEVICE_TYPE_GPU, 1024, 49152, 1));
        assertEquals(TileConfig.GPU, gpu, "a large GPU gets every tier, 128x128 first");
        assertEquals(128, gpu.get(0).bm());
        assertEquals(128, gpu.get(0).bn());
        List<TileConfig> smallGpu = TileConfig.tiersFor(info(CL_DEVICE_TYPE_GPU, 128, 49152, 1));
        assertEquals(new TileConfig(8, 8, 4, 4, 1, 8, 4), smallGpu.get(0), "256 work-items do not fit in 128");
        List<TileConfig> littleLocal = TileConfig.tiersFor(info(CL_DEVICE_TYPE_GPU, 1024, 12000, 1));
        assertEquals(64, littleLocal.get(0).bm(), "the 17 KiB of 128x128 tiles do not fit in 12000 bytes");
        List<TileConfig> cpu = TileConfig.tiersFor(info(CL_DEVICE_TYPE_CPU, 4096, 1 << 20, 16));
        assertEquals(16, cpu.get(0).vn(), "AVX-512 CPUs get float16 columns");
        assertEquals(8, TileConfig.tiersFor(info(CL_DEVICE_TYPE_CPU, 4096, 1 << 20, 8)).get(0).vn());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> TileConfig.tiersFor(info(CL_DEVICE_TYPE_GPU, 1, 8, 1)));
        assertTrue(e.getMessage().contains("8 bytes"), e.getMessage());
        assertEquals("-DWX=16 -DWY=16 -DRM=8 -DVN=4 -DNV=2 -DBK=16 -DPAD=4", gpu.get(0).buildOptions());
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
        int count = ClDiscovery.run().devices().size();
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> Backends.get("opencl:" + (count + 7)));
        if (count == 0) {
            assertTrue(e.getMessage().contains("OpenCL"), "no device: the message says why, " + e.getMessage());
        } else {
            assertTrue(e.getMessage().startsWith("opencl:" + (count + 7) + " does not exist: " + count
                    + " OpenCL device(s) found (opencl:0 .. opencl:" + (count - 1) + ")"), e.getMessage());
        }
    }

    @Test
    void aBrokenProgramReportsTheBuildLogAndDevice() {
        ClDiscovery d = ClDiscovery.run();
        Required.assume("opencl", d.unavailableReason() == null, "no OpenCL device: " + d.unavailableReason());
        ClDevice dev = new ClDevice(d.devices().get(0));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> dev.programs.build("broken.cl",
                "__kernel void k(__global float *a) { a[0] = undefined_name; }", "-DMARKER=7"));
        assertTrue(e.getMessage().contains(d.devices().get(0).name()), e.getMessage());
        assertTrue(e.getMessage().contains("broken.cl") && e.getMessage().contains("-DMARKER=7"), e.getMessage());
        assertTrue(e.getMessage().contains("undefined_name"), "the compiler's log names the problem: " + e.getMessage());
    }
}
