package dev.fuse4j.kernels;

/**
 * What {@link GpuBackend} needs of a device (the OpenCL and CUDA host layers each have one): the record of the work
 * queued on it, and its buffers.
 *
 * @param <B> the device's buffer handle
 */
public interface GpuDevice<B> {

    /** The device's record of queued work, under whose lock calls queue it. */
    QueuedCalls<?> calls();

    /** A new buffer of {@code floats} floats with unspecified contents; queues nothing. */
    B allocate(long floats);

    /** Gives a buffer back; safe while work queued earlier still uses it. */
    void free(B buffer);

    /** Queues zeros into the first {@code floats} floats of {@code buffer}, in the open call. */
    void fillZero(B buffer, long floats);

    /** Waits for the work queued so far, throwing for the first failure in it, then copies to the host. */
    float[] read(B buffer, int count, Object what);

    /** Waits for the work queued so far, throwing for the first failure in it. */
    void finish(Object what);
}
