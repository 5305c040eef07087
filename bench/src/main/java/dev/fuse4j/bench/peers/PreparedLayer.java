package dev.fuse4j.bench.peers;

/**
 * One layer with its inputs already where the implementation wants them (host arrays, device buffers, native
 * tensors), so that timing a call measures the layer and not the upload. Not thread-safe.
 */
public interface PreparedLayer extends AutoCloseable {

    /** {@code y = dropout(relu(x·wᵀ + b))}; the result is kept for {@link #backward()} and {@link #output()}. */
    void forward();

    /** {@code dx, dw, db} from the prepared {@code dy} and the last forward's {@code y}; results are discarded. */
    void backward();

    /** The last forward's {@code y}, copied to the host, for checking. */
    float[] output();

    /** Releases what {@code prepare} allocated. */
    @Override
    void close();
}
