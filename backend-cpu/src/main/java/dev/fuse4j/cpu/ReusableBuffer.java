package dev.fuse4j.cpu;

import java.lang.ref.SoftReference;

/**
 * A scratch array per calling thread, kept between calls: a fresh multi-megabyte array per call is a humongous
 * allocation for G1 and made throughput swing widely between calls (docs/performance.md). Soft, so an idle cache
 * can be collected. A thread gets its own array, so concurrent calls from several threads never share one.
 */
final class ReusableBuffer {
    private final ThreadLocal<SoftReference<float[]>> cache = new ThreadLocal<>();

    /** The calling thread's array, grown to at least {@code floats}; its contents are left over from before. */
    float[] get(int floats) {
        SoftReference<float[]> ref = cache.get();
        float[] buf = ref == null ? null : ref.get();
        if (buf == null || buf.length < floats) {
            buf = new float[floats];
            cache.set(new SoftReference<>(buf));
        }
        return buf;
    }
}
