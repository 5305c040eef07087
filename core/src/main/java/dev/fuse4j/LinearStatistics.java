package dev.fuse4j;

/**
 * The first pass of a batch-normalised layer in training: {@code z = x·wᵀ + b} ({@code [n, out]}) and batch
 * normalisation's statistics of {@code z} ({@code [2, out]}: the batch means, then the biased variances), as
 * {@link Backend#linearWithStatistics} returns them. Closing closes both.
 */
public record LinearStatistics(Tensor z, Tensor stats) implements AutoCloseable {

    @Override
    public void close() {
        try {
            z.close();
        } finally {
            stats.close();
        }
    }
}
