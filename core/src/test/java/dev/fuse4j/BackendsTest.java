package dev.fuse4j;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Core alone has no backend module on its class path: names must still be refused clearly. */
class BackendsTest {

    @Test
    void unknownNamesAreIllegalArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.get("tpu"));
        assertTrue(e.getMessage().contains("tpu"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Backends.get("cpu:x"));
        assertTrue(e.getMessage().contains("'x'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Backends.get(" "));
    }

    @Test
    void statusSaysEverythingInOneLine() {
        String s = BackendStatus.unavailable("cuda", "no driver (libcuda.so.1 not found)").toString();
        assertTrue(s.contains("cuda") && s.contains("unavailable") && s.contains("libcuda.so.1"), s);
        String a = BackendStatus.available("cpu", "2 cores, AVX2").toString();
        assertTrue(a.contains("cpu") && a.contains("available") && a.contains("AVX2"), a);
    }

    /**
     * Statuses come in provider priority order (cuda, opencl, cpu, cpu-scalar); select() takes GPUs and
     * accelerators first, then the Java backends, and a CPU behind a driver (PoCL) last.
     */
    @Test
    void selectionOrderPutsDrivenCpusAfterTheJavaBackend() {
        BackendStatus cuda = BackendStatus.unavailable("cuda", "no driver");
        BackendStatus clCpu = BackendStatus.available("opencl:0", "CPU pocl", DeviceKind.CPU);
        BackendStatus clGpu = BackendStatus.available("opencl:1", "GPU", DeviceKind.GPU);
        BackendStatus clAcc = BackendStatus.available("opencl:2", "accelerator", DeviceKind.ACCELERATOR);
        BackendStatus cpu = BackendStatus.available("cpu", "Java Vector API");
        BackendStatus scalar = BackendStatus.available("cpu-scalar", "Java loops");
        assertEquals(List.of(cuda, clGpu, clAcc, cpu, scalar, clCpu),
                Backends.inSelectionOrder(List.of(cuda, clCpu, clGpu, clAcc, cpu, scalar)));
        assertEquals(DeviceKind.JAVA, cpu.kind());
    }

    @Test
    void statusKeepsTheWholeCause() {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError("libcuda.so.1: cannot open\n  nested trace line 2");
        BackendStatus s = BackendStatus.unavailable("cuda", "no driver", e);
        assertSame(e, s.cause());
        assertTrue(s.toString().contains("no driver") && !s.toString().contains("line 2"), s.toString());
    }
}
