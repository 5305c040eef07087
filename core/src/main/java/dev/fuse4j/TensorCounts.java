package dev.fuse4j;

/**
 * The process-wide tensor counters at one moment, across all backends.
 *
 * @param made    tensors made so far
 * @param closed  tensors released by {@link Tensor#close()}
 * @param cleaned tensors released by the {@link java.lang.ref.Cleaner} without having been closed: leaks, found late
 */
public record TensorCounts(long made, long closed, long cleaned) {

    /** Tensors made and not yet released. */
    public long live() {
        return made - closed - cleaned;
    }

    /**
     * Tensors made since {@code before} and not closed since, whether or not the Cleaner has released them yet: what
     * a piece of code that closes everything it makes (and nothing made before it) leaked. Tensors leaked earlier and
     * cleaned meanwhile do not count, which the live count could not tell.
     */
    public long leakedSince(TensorCounts before) {
        return (made - before.made) - (closed - before.closed);
    }
}
