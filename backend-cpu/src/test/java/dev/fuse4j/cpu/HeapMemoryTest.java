package dev.fuse4j.cpu;

import dev.fuse4j.DeviceMemoryException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Heap tensors the heap cannot hold are refused with the numbers, before trying where that can be told. */
class HeapMemoryTest {

    @Test
    void anArrayLargerThanTheWholeHeapIsRefusedWithoutTrying() {
        int floats = Integer.MAX_VALUE - 8; // 8 GiB: more than any heap the suites run with (-Xmx4g)
        DeviceMemoryException e = assertThrows(DeviceMemoryException.class, () -> HeapMemory.allocate(floats,
                new int[] {floats}, "cpu", n -> {
                    throw new AssertionError("must not try");
                }));
        assertEquals(4L * floats, e.requestedBytes());
        assertTrue(e.getMessage().startsWith("cpu (Java heap of ") && e.getMessage().contains("-Xmx")
                && e.getMessage().contains("[" + floats + "]"), e.getMessage());
        assertTrue(e.availableBytes() <= Runtime.getRuntime().maxMemory());
    }

    @Test
    void anOutOfMemoryErrorOfTheOneArrayBecomesTheSameRefusal() {
        DeviceMemoryException e = assertThrows(DeviceMemoryException.class, () -> HeapMemory.allocate(1000,
                new int[] {10, 100}, "cpu-scalar", n -> {
                    throw new OutOfMemoryError("Java heap space"); // as the JVM throws it, after a collection
                }));
        assertEquals(4000, e.requestedBytes());
        assertTrue(e.getMessage().contains("[10, 100]") && e.getMessage().contains("no room"), e.getMessage());
    }
}
