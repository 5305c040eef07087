package dev.fuse4j;

import dev.fuse4j.spi.TensorBase;

import java.nio.FloatBuffer;

/**
 * A row-major float32 array living on one backend's device.
 *
 * <p>A tensor belongs to the backend that made it; passing it to another backend is an
 * {@link IllegalArgumentException}. Using it after {@link #close()} is an {@link IllegalStateException}.
 * Device memory is released by {@code close()}; a {@link java.lang.ref.Cleaner} is only a safety net.
 *
 * <p>Host data moves in and out through {@code float[]} or {@link FloatBuffer} (heap or direct). A buffer's
 * floats are those between its position and its limit; the copies are absolute: they leave the position, limit
 * and mark as they were. Sizes must match exactly. A copy into a tensor has read the caller's data when it
 * returns (the caller may reuse the array or buffer at once), and it runs after all work already queued, so that
 * work still sees the old values. A copy out waits for the work queued before it. A direct buffer in the native
 * byte order is handed to the driver as it is (no copy in between); other buffers go through a Java array.
 * Memory outside the heap ({@code java.lang.foreign.MemorySegment}) comes in as
 * {@code segment.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer()}, a direct view of it.
 */
public interface Tensor extends AutoCloseable {

    /** The dimensions, outermost first. A copy: changing it changes nothing. */
    int[] shape();

    /** Number of elements (product of the shape). */
    long size();

    /** The backend that made this tensor. */
    Backend backend();

    /** Copies the values to the host. */
    float[] toArray();

    /** Overwrites every element with {@code src}, whose length must equal {@link #size()}. */
    void copyFrom(float[] src);

    /** Overwrites every element with the floats of {@code src} from its position to its limit, unchanged. */
    void copyFrom(FloatBuffer src);

    /**
     * Overwrites every element with those of {@code src}, a tensor of the same backend and size (its shape may
     * differ: the elements are copied in row-major order), on the device and behind the work queued so far.
     */
    void copyFrom(Tensor src);

    /** Copies every element into {@code dst}, whose length must equal {@link #size()}. */
    void copyTo(float[] dst);

    /** Copies every element into {@code dst} from its position to its limit, which must not be read-only. */
    void copyTo(FloatBuffer dst);

    /** Whether {@link #close()} has been called. */
    boolean isClosed();

    /** Releases the device memory. Idempotent. */
    @Override
    void close();

    /** Tensors made and not yet released, across all backends. */
    static long liveCount() {
        return TensorBase.liveCount();
    }

    /** How many tensors were made, closed and released by the Cleaner so far: tests take one before and after. */
    static TensorCounts counts() {
        return TensorBase.counts();
    }
}
