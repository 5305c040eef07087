package dev.fuse4j.kernels;

import java.nio.FloatBuffer;

/**
 * What {@link GpuBackend} needs of a device (the OpenCL and CUDA host layers each have one): the record of the work
 * queued on it, and its buffers.
 *
 * @param <B> the device's buffer handle
 */
public interface GpuDevice<B> {

    /** The device's record of queued work, under whose lock calls queue it. */
    QueuedCalls<?> calls();

    /** The bytes the device's buffers hold, and the rule every allocation follows. */
    DeviceMemory<B> memory();

    /** A new buffer of {@code floats} floats with unspecified contents; queues nothing. */
    B allocate(long floats);

    /** Gives a buffer back; safe while work queued earlier still uses it. */
    void free(B buffer);

    /** Queues zeros into the first {@code floats} floats of {@code buffer}, in the open call. */
    void fillZero(B buffer, long floats);

    /** Waits for the work queued so far, throwing for the first failure in it, then copies to the host. */
    float[] read(B buffer, int count, Object what);

    /**
     * Copies all of {@code src} (position 0, remaining the buffer's size) into {@code buffer} behind the work
     * queued so far; {@code src} has been read when this returns. {@code what} names the call in messages.
     */
    void write(B buffer, FloatBuffer src, Object what);

    /** Queues a copy of the first {@code floats} floats of {@code src} into {@code dst}, in a call of its own. */
    void copy(B src, B dst, long floats, Object what);

    /** Waits for the work queued so far, then copies the first {@code dst.remaining()} floats into {@code dst}. */
    void readInto(B buffer, FloatBuffer dst, Object what);

    /** Waits for the work queued so far, throwing for the first failure in it. */
    void finish(Object what);
}
