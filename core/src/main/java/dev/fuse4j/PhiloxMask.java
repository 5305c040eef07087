package dev.fuse4j;

/**
 * The dropout mask of docs/DESIGN.md for host code walking the output in order: one Philox block serves
 * mask indices {@code 4q .. 4q+3}, as the contract lays out the counter, so sequential use costs a block per four
 * indices rather than one per element as {@link Philox#keep} does. Channel and variational dropout map elements to
 * mask indices by {@link Dropout#maskIndex}. {@link #weights} is the same for DropConnect's weight mask (one
 * index per weight). Not thread-safe: one per thread.
 */
public final class PhiloxMask {
    private final Dropout d;
    private final boolean training;
    private final long threshold;
    /** Added to an element's index: the call's element base for outputs, 0 for weights. */
    private final long base;
    /** Or'ed into the counter's second word: 0 for outputs, {@link Philox#WEIGHT_STREAM} for weights. */
    private final int stream;
    private final int[] words = new int[4];
    private long block = -1;

    /** The output mask of {@code d}: every element kept when it is not training or is DropConnect. */
    public PhiloxMask(Dropout d) {
        this(d, d.training() && !d.dropConnect(), d.elementBase(), 0);
    }

    private PhiloxMask(Dropout d, boolean training, long base, int stream) {
        this.d = d;
        this.training = training;
        this.threshold = d.threshold();
        this.base = base;
        this.stream = stream;
    }

    /**
     * DropConnect's weight mask of {@code d}, walked by weight element {@code k = o·in + c}: every weight kept
     * unless {@link Dropout#dropConnect()}.
     */
    public static PhiloxMask weights(Dropout d) {
        return new PhiloxMask(d, d.dropConnect(), 0L, Philox.WEIGHT_STREAM);
    }

    /**
     * Whether element {@code e} of the call (its flat index in the call's output, or the weight's flat index for
     * {@link #weights}) is kept.
     */
    public boolean keep(long e) {
        if (!training) {
            return true;
        }
        e = d.maskIndex(e + base);
        long q = e >>> 2;
        if (q != block) {
            Philox.block((int) q, (int) (q >>> 32) | stream, (int) d.offset(), (int) (d.offset() >>> 32),
                    (int) d.seed(), (int) (d.seed() >>> 32), words);
            block = q;
        }
        return (words[(int) (e & 3)] & 0xFFFFFFFFL) >= threshold;
    }
}
