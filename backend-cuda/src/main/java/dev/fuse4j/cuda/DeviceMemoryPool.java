package dev.fuse4j.cuda;

import jcuda.driver.CUdeviceptr;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Keeps freed device buffers for reuse by size, as PyTorch's caching allocator does: cuMemAlloc is slow and
 * cuMemFree synchronises the device, which in a training loop of same-shaped tensors would
 * otherwise cost more than the kernels. Bounded: beyond {@code limitBytes} a freed buffer is really freed.
 * A buffer may come back while queued work still uses it; handing it out again is safe because every use of a
 * device buffer is queued on the device's one stream, so its next user runs after that work (PyTorch's allocator
 * keeps its pools per stream for the same reason).
 */
final class DeviceMemoryPool {
    private final Map<Long, ArrayDeque<CUdeviceptr>> free = new HashMap<>();
    private final long limitBytes;
    private long cachedBytes;

    DeviceMemoryPool(long limitBytes) {
        this.limitBytes = limitBytes;
    }

    /** Sizes are rounded up so that nearly equal requests share buffers. */
    static long roundUp(long bytes) {
        long unit = bytes >= (1L << 20) ? 1L << 16 : 512;
        return (bytes + unit - 1) / unit * unit;
    }

    /** A cached buffer of exactly {@code bytes} (already rounded), or null. */
    synchronized CUdeviceptr take(long bytes) {
        ArrayDeque<CUdeviceptr> q = free.get(bytes);
        CUdeviceptr p = q == null ? null : q.pollLast();
        if (p != null) {
            cachedBytes -= bytes;
        }
        return p;
    }

    /** Keeps {@code p} if there is room; returns false when the caller must free it. */
    synchronized boolean give(CUdeviceptr p, long bytes) {
        if (cachedBytes + bytes > limitBytes) {
            return false;
        }
        free.computeIfAbsent(bytes, k -> new ArrayDeque<>()).addLast(p);
        cachedBytes += bytes;
        return true;
    }

    /** Empties the pool, handing each buffer to {@code freer} (after an out-of-memory, before retrying). */
    synchronized void drain(java.util.function.Consumer<CUdeviceptr> freer) {
        free.values().forEach(q -> q.forEach(freer));
        free.clear();
        cachedBytes = 0;
    }
}
