package dev.fuse4j.opencl;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;

/** The limits of OpenCL devices, without a device: the property, a CPU device's share of the host, a GPU's memory. */
class ClMemoryBudgetTest {
    private static final long GIB = 1L << 30;

    private static ClDeviceInfo device(long type, long globalMem) {
        return new ClDeviceInfo(null, null, "test platform", "test device", "vendor", "OpenCL 1.2", type, 2,
                globalMem, 64 << 10, 4096, 8);
    }

    @Test
    void aCpuDeviceKeepsToHalfOfWhatTheHostHasAvailablePlusWhatItHolds() {
        long[] available = {10 * GIB};
        ClMemoryBudget b = ClMemoryBudget.of(device(CL_DEVICE_TYPE_CPU, 21 * GIB), null, () -> available[0]);
        assertEquals(5 * GIB, b.limitBytes(0, true));
        available[0] = 6 * GIB; // the backend now holds 4 GiB, which the host no longer counts as available
        assertEquals(5 * GIB, b.limitBytes(4 * GIB, true));
        available[0] = 100 * GIB;
        assertEquals(21 * GIB, b.limitBytes(0, true), "never more than the device reports");
        assertTrue(b.describe().contains("50%") && b.describe().contains("fuse4j.opencl.memoryLimit"), b.describe());
    }

    @Test
    void theHostIsReadAgainBeforeARefusalButNotOnEveryAllocation() {
        int[] reads = {0};
        ClMemoryBudget b = ClMemoryBudget.of(device(CL_DEVICE_TYPE_CPU, 21 * GIB), null, () -> {
            reads[0]++;
            return 2 * GIB;
        });
        b.limitBytes(0, false);
        b.limitBytes(0, false);
        assertEquals(1, reads[0], "a second question within 100 ms uses the last reading");
        b.limitBytes(0, true);
        assertEquals(2, reads[0], "a fresh look reads again");
    }

    @Test
    void theLimitPropertyOverridesAndAGpuKeepsToItsMemory() {
        assertEquals(256L << 20, ClMemoryBudget.of(device(CL_DEVICE_TYPE_CPU, 21 * GIB), "256m", () -> 0).limitBytes(0, true));
        assertEquals(8 * GIB, ClMemoryBudget.of(device(CL_DEVICE_TYPE_GPU, 8 * GIB), "1t", () -> 0).limitBytes(0, true),
                "never more than the device has");
        ClMemoryBudget gpu = ClMemoryBudget.of(device(CL_DEVICE_TYPE_GPU, 8 * GIB), null, () -> {
            throw new AssertionError("a GPU's memory is not the host's");
        });
        assertEquals(8 * GIB, gpu.limitBytes(5 * GIB, true));
    }

    @Test
    void sizesParseWithBinarySuffixesAndBadOnesNameTheProperty() {
        assertEquals(1000, ClMemoryBudget.parseSize("1000"));
        assertEquals(64L << 10, ClMemoryBudget.parseSize("64k"));
        assertEquals(256L << 20, ClMemoryBudget.parseSize(" 256M "));
        assertEquals(3L << 30, ClMemoryBudget.parseSize("3g"));
        for (String bad : new String[] {"", "m", "-5m", "0", "1.5g", "12x", "99999999999t"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ClMemoryBudget.parseSize(bad), bad);
            assertTrue(e.getMessage().contains("fuse4j.opencl.memoryLimit") && e.getMessage().contains("'" + bad + "'"),
                    e.getMessage());
        }
    }

    @Test
    void theHostsAvailableMemoryIsRead() {
        long a = ClMemoryBudget.hostAvailableBytes();
        assertTrue(a > 0 && a < Runtime.getRuntime().maxMemory() * 1024L, "MemAvailable " + a);
    }
}
