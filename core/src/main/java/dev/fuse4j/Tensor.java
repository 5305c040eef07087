package dev.fuse4j;

import dev.fuse4j.spi.TensorBase;

/**
 * A row-major float32 array living on one backend's device.
 *
 * <p>A tensor belongs to the backend that made it; passing it to another backend is an
 * {@link IllegalArgumentException}. Using it after {@link #close()} is an {@link IllegalStateException}.
 * Device memory is released by {@code close()}; a {@link java.lang.ref.Cleaner} is only a safety net.
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
