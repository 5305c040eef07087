package dev.fuse4j.kernels;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * A caller's floats in the form a driver copies from or into: a direct buffer in the native byte order as it is
 * (no copy in between), else a Java array and the offset of the first float, the caller's own array where the
 * buffer is backed by a writable one, else a copy.
 *
 * @param direct the caller's direct buffer (position 0, the whole region), or null
 * @param array  the array, when {@code direct} is null
 * @param offset the index of the first float in {@code array}
 * @param copied whether {@code array} is a copy (for a target: to be copied back into the caller's buffer)
 */
public record HostFloats(FloatBuffer direct, float[] array, int offset, boolean copied) {

    /** Where to copy {@code src} (position 0, remaining the whole region) from. */
    public static HostFloats source(FloatBuffer src) {
        HostFloats h = asIs(src);
        if (h != null) {
            return h;
        }
        float[] a = new float[src.remaining()];
        src.get(0, a);
        return new HostFloats(null, a, 0, true);
    }

    /** Where to copy into for {@code dst} (position 0, remaining the whole region, writable); see {@link #finish}. */
    public static HostFloats target(FloatBuffer dst) {
        HostFloats h = asIs(dst);
        return h != null ? h : new HostFloats(null, new float[dst.remaining()], 0, true);
    }

    /** After a copy into a {@link #target}: moves the floats into {@code dst} where they went to a copy. */
    public void finish(FloatBuffer dst) {
        if (copied) {
            dst.put(0, array);
        }
    }

    private static HostFloats asIs(FloatBuffer b) {
        if (b.isDirect() && b.order() == ByteOrder.nativeOrder()) {
            return new HostFloats(b, null, 0, false);
        }
        if (b.hasArray()) { // false for read-only buffers
            return new HostFloats(null, b.array(), b.arrayOffset() + b.position(), false);
        }
        return null;
    }
}
