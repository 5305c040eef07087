package dev.fuse4j.kernels;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.spi.LinearShape;

/**
 * The fused layer's products on a GPU backend, each queued in the open call: forward with its epilogue, and the
 * two backward products whose loads form dz from dy, y and z.
 *
 * @param <B> the device's buffer handle
 */
public interface GpuGemm<B> {

    /** {@code y = epilogue(x·wᵀ + b)}, and the pre-activation into {@code zOut} unless it is null. */
    void forward(LinearShape s, B x, B w, B b, B y, B zOut, Activation act, Dropout d);

    /** {@code dx[n × in] = dz[n × out]·w[out × in]}; {@code z} is null unless the activation needs it. */
    void dx(LinearShape s, B dy, B y, B z, B w, B dx, Activation act, Dropout d);

    /** {@code dw[out × in] = dzᵀ[out × n]·x[n × in]} and {@code db} = the sums of dz over the batch. */
    void dw(LinearShape s, B dy, B y, B z, B x, B dw, B db, Activation act, Dropout d);

    /**
     * {@code z = x·wᵀ + b} bit for bit as {@link #forward} with the identity and no dropout writes it, and per column
     * the sums of each row tile's z shifted by the tile's first row into {@code part [ceil(n / rows), 2, out]}
     * ({@code rows} = {@link #statisticsRows}): the first pass of batch norm in training.
     */
    void forwardWithStatistics(LinearShape s, B x, B w, B b, B z, B part);

    /** The rows of z each tile of {@link #forwardWithStatistics} sums: the height of the tile it uses for {@code s}. */
    int statisticsRows(LinearShape s);

    /** Releases the scratch buffers (when memory runs short; under the device's lock); later calls allocate anew. */
    void giveBackScratch();

    /** The launch geometry in words, for the backend's device description. */
    String describe();
}
