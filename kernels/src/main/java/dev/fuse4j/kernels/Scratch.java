package dev.fuse4j.kernels;

import java.util.function.Consumer;
import java.util.function.LongFunction;

/**
 * A grow-only device buffer for intermediate results (split-K partial sums), reused across calls so a backward
 * pass allocates nothing in steady state. Calls that use it run one after another on the device's in-order queue,
 * so one call's partial sums are read before the next call's overwrite them. Used while a call is open (the
 * device's lock held).
 *
 * @param <B> the backend's buffer handle
 */
public final class Scratch<B> {
    private final LongFunction<B> allocate;
    private final Consumer<B> release;
    private B buffer;
    private long floats;

    /**
     * @param allocate a new buffer of the given number of floats
     * @param release  gives a buffer back while queued work may still use it: the backend must make that safe
     *                 (OpenCL keeps a released buffer for its queued commands; CUDA's pool hands it out again only
     *                 to work queued behind them)
     */
    public Scratch(LongFunction<B> allocate, Consumer<B> release) {
        this.allocate = allocate;
        this.release = release;
    }

    /** A buffer of at least {@code need} floats. */
    public B atLeast(long need) {
        if (need > floats) {
            long size = Math.max(need, floats + floats / 2); // grow geometrically: few reallocations
            giveBack(); // first, so the old buffer's memory counts for the new one; and none is kept if that fails
            buffer = allocate.apply(size);
            floats = size;
        }
        return buffer;
    }

    /** Releases the buffer (when memory runs short); the next {@link #atLeast} allocates again. */
    public void giveBack() {
        if (buffer != null) {
            B old = buffer;
            buffer = null;
            floats = 0;
            release.accept(old);
        }
    }
}
