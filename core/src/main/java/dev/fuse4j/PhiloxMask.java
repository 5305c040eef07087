package dev.fuse4j;

/**
 * The dropout mask of docs/DESIGN.md for host code walking the output in order: one Philox block serves
 * mask indices {@code 4q .. 4q+3}, as the contract lays out the counter, so sequential use costs a block per four
 * indices rather than one per element as {@link Philox#keep} does. Channel and variational dropout map elements to
 * mask indices by {@link Dropout#maskIndex}. Not thread-safe: one per thread.
 */
public final class PhiloxMask {
    private final Dropout d;
    private final boolean training;
    private final long threshold;
    private final int[] words = new int[4];
    private long block = -1;

    public PhiloxMask(Dropout d) {
        this.d = d;
        this.training = d.training();
        this.threshold = d.threshold();
    }

    /** Whether element {@code e} of the call (its flat index in the call's output) is kept. */
    public boolean keep(long e) {
        if (!training) {
            return true;
        }
        e = d.maskIndex(e + d.elementBase());
        long q = e >>> 2;
        if (q != block) {
            Philox.block((int) q, (int) (q >>> 32), (int) d.offset(), (int) (d.offset() >>> 32),
                    (int) d.seed(), (int) (d.seed() >>> 32), words);
            block = q;
        }
        return (words[(int) (e & 3)] & 0xFFFFFFFFL) >= threshold;
    }
}
