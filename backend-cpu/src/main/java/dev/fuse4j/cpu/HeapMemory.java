package dev.fuse4j.cpu;

import dev.fuse4j.DeviceMemoryException;

import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * The CPU backends' tensors live in Java heap arrays. An array larger than the heap's maximum is refused before
 * any attempt; one the heap cannot find room for (after the collection the JVM runs first, which also clears the
 * recycler's softly held arrays) is refused likewise: both as {@link DeviceMemoryException} naming the sizes, since
 * a bare {@link OutOfMemoryError} names none and is easily taken for the JVM failing.
 */
final class HeapMemory {
    private HeapMemory() {
    }

    /** {@code make.apply(floats)}, or a {@link DeviceMemoryException} for {@code shape} when the heap cannot hold it. */
    static float[] allocate(int floats, int[] shape, String backend, IntFunction<float[]> make) {
        long bytes = 4L * floats;
        Runtime rt = Runtime.getRuntime();
        if (bytes > rt.maxMemory()) {
            throw refusal(bytes, shape, backend, "larger than the whole heap (-Xmx)");
        }
        try {
            return make.apply(floats);
        } catch (OutOfMemoryError e) {
            // Only this one array failed; the heap is as it was, so the backend goes on working.
            throw refusal(bytes, shape, backend, "the heap has no room for it even after a collection");
        }
    }

    private static DeviceMemoryException refusal(long bytes, int[] shape, String backend, String why) {
        Runtime rt = Runtime.getRuntime();
        long used = rt.totalMemory() - rt.freeMemory();
        return new DeviceMemoryException(backend + " (Java heap of " + DeviceMemoryException.bytes(rt.maxMemory())
                + ")", bytes, used, Math.max(0, rt.maxMemory() - used), "a tensor " + Arrays.toString(shape)
                + " is " + why + "; give the JVM more with -Xmx");
    }
}
