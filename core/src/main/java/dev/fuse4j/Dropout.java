package dev.fuse4j;

/**
 * Inverted dropout settings for one call: in training an element is kept with probability {@code 1 - p}
 * and scaled by {@code 1 / (1 - p)}; in evaluation nothing is dropped and nothing is scaled.
 *
 * <p>The mask of element {@code e} depends on {@code (p, seed, offset, e)} alone (see docs/DESIGN.md), so
 * every backend draws the same mask bit for bit and backward can regenerate it instead of storing it. A call that
 * computes a slice of a batch names the slice's place in it with {@link #withElementBase}.
 *
 * <p>{@link #dropConnect} targets the weights instead (DropConnect, Wan et al. 2013): in training the layer computes
 * {@code act(x·(W ⊙ M)ᵀ / (1 - p) + b)} with one mask {@code M} over the {@code [out, in]} weight elements per
 * call, drawn from a Philox stream of its own, and leaves its outputs unmasked.
 */
public final class Dropout {

    private static final Dropout EVAL = new Dropout(false, 0f, 0L, 0L, 0L);

    private final boolean training;
    private final float p;
    private final long seed;
    private final long offset;
    private final long elementBase;
    /** Whether the mask falls on the weights (DropConnect) rather than on the outputs. */
    private final boolean weights;

    private Dropout(boolean training, float p, long seed, long offset, long elementBase) {
        this(training, p, seed, offset, elementBase, false);
    }

    private Dropout(boolean training, float p, long seed, long offset, long elementBase, boolean weights) {
        this.training = training;
        this.p = p;
        this.seed = seed;
        this.offset = offset;
        this.elementBase = elementBase;
        this.weights = weights;
    }

    /**
     * Training-mode dropout.
     *
     * @param p      probability of dropping an element, in [0, 1]
     * @param seed   Philox key
     * @param offset Philox counter offset; a layer advances it once per training call
     */
    public static Dropout train(float p, long seed, long offset) {
        return new Dropout(true, checkedP(p), seed, offset, 0L);
    }

    private static float checkedP(float p) {
        if (!(p >= 0f && p <= 1f)) {
            throw new IllegalArgumentException("dropout p must be in [0, 1] but is " + p);
        }
        return p;
    }

    /**
     * Training-mode DropConnect: weight element {@code k = o·in + c} is kept with probability {@code 1 - p}, kept
     * weights are scaled by {@code 1 / (1 - p)}, and the outputs are not masked. The weight mask is a pure function
     * of {@code (p, seed, offset, k)} from its own Philox stream (docs/DESIGN.md), one mask per call whatever the
     * batch, so it ignores element bases. Passed as the dropout of {@code linear} and {@code linearBackward}; its
     * evaluation mode is the plain layer, {@link #eval()}.
     *
     * @param p      probability of dropping a weight, in [0, 1]
     * @param seed   Philox key
     * @param offset Philox counter offset; a layer advances it once per training call
     */
    public static Dropout dropConnect(float p, long seed, long offset) {
        return new Dropout(true, checkedP(p), seed, offset, 0L, true);
    }

    /** Evaluation mode: identity (no mask, no scaling). */
    public static Dropout eval() {
        return EVAL;
    }

    public boolean training() {
        return training;
    }

    /**
     * Whether this is training-mode DropConnect: the mask, threshold and scale apply to the weights, and the
     * outputs are left unmasked (see {@link #onOutputs()}).
     */
    public boolean dropConnect() {
        return weights;
    }

    /** The dropout this call applies to its outputs: {@link #eval()} for DropConnect, else this. */
    public Dropout onOutputs() {
        return weights ? EVAL : this;
    }

    /** Drop probability; 0 in evaluation mode. */
    public float p() {
        return p;
    }

    public long seed() {
        return seed;
    }

    public long offset() {
        return offset;
    }

    /**
     * Flat index, in the whole batch's {@code [N, out]} output, of this call's first output element; 0 unless the
     * call computes a slice. Element {@code (i, j)} of a call draws the mask of element {@code elementBase + i·out + j}.
     */
    public long elementBase() {
        return elementBase;
    }

    /**
     * The same settings for a call that computes a slice of a larger batch: rows {@code [r0, r0 + n)} of a batch whose
     * output has {@code out} columns start at element base {@code r0·out}. The slice then draws exactly the mask the
     * whole batch would, so splitting a batch across threads, devices or machines never changes a mask.
     *
     * DropConnect's weight mask is one per call whatever the rows, so it returns itself.
     *
     * @param elementBase flat index of the slice's first output element in the whole batch, {@code >= 0}
     */
    public Dropout withElementBase(long elementBase) {
        if (elementBase < 0) {
            throw new IllegalArgumentException("dropout element base must be >= 0 but is " + elementBase);
        }
        return training && !weights ? new Dropout(true, p, seed, offset, elementBase) : this;
    }

    /** The same settings one step later: how a layer moves to a fresh mask for its next training call. */
    public Dropout next() {
        return training ? new Dropout(true, p, seed, offset + 1, elementBase, weights) : this;
    }

    /**
     * Scale applied to kept values: {@code 1f / (1f - p)} in training, 1 in evaluation, and 0 when {@code p = 1}
     * (nothing is kept, and 0 avoids an infinite scale reaching any arithmetic).
     */
    public float scale() {
        if (!training) {
            return 1f;
        }
        return p == 1f ? 0f : 1f / (1f - p);
    }

    /**
     * Keep threshold {@code floor(p · 2^32)} (p as float, product in double): element e is kept when its
     * unsigned Philox word is {@code >=} this. 0 keeps everything; 2^32 (for p = 1) keeps nothing.
     */
    public long threshold() {
        return training ? (long) Math.floor((double) p * 4294967296.0) : 0L;
    }

    @Override
    public String toString() {
        if (weights) {
            return "Dropout.dropConnect(p=" + p + ", seed=" + seed + ", offset=" + offset + ")";
        }
        return training ? "Dropout.train(p=" + p + ", seed=" + seed + ", offset=" + offset
                + (elementBase == 0 ? "" : ", elementBase=" + elementBase) + ")" : "Dropout.eval()";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dropout d && d.training == training && Float.compare(d.p, p) == 0
                && d.seed == seed && d.offset == offset && d.elementBase == elementBase && d.weights == weights;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(training, p, seed, offset, elementBase, weights);
    }
}
