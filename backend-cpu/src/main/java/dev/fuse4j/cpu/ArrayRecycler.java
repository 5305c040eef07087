package dev.fuse4j.cpu;

import java.lang.ref.SoftReference;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Arrays of closed tensors, handed to the next output of the same size: a training or inference loop makes the
 * same shapes call after call, and zeroing a fresh multi-megabyte output array (which the kernels then overwrite
 * anyway) is a measurable share of a forward (docs/performance.md). Only outputs whose every element is about to
 * be written take a recycled array; zeros and uploads always get a fresh or fully written one. At most
 * {@value #PER_SIZE} arrays per size are kept, softly, so an idle pool can be collected.
 */
final class ArrayRecycler {
    private static final int PER_SIZE = 4;
    /** Arrays smaller than this are cheaper to allocate than to look up. */
    static final int MIN_FLOATS = 1 << 12;

    private final Map<Integer, ArrayDeque<SoftReference<float[]>>> free = new HashMap<>();

    /** An array of exactly {@code floats} with unspecified contents. */
    float[] take(int floats) {
        if (floats >= MIN_FLOATS) {
            synchronized (free) {
                ArrayDeque<SoftReference<float[]>> q = free.get(floats);
                while (q != null && !q.isEmpty()) {
                    float[] a = q.pollLast().get();
                    if (a != null) {
                        return a;
                    }
                }
            }
        }
        return new float[floats];
    }

    /** Takes back the array of a tensor that was closed (or dropped) and can no longer be read. */
    void give(float[] a) {
        if (a.length < MIN_FLOATS) {
            return;
        }
        synchronized (free) {
            ArrayDeque<SoftReference<float[]>> q = free.computeIfAbsent(a.length, s -> new ArrayDeque<>());
            if (q.size() < PER_SIZE) {
                q.addLast(new SoftReference<>(a));
            }
        }
    }
}
