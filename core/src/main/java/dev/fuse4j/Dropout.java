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
 *
 * <p>Two options share one draw among several elements, by the mask index rule of docs/DESIGN.md: {@link #channels}
 * drops whole channels of {@code featuresPerChannel} consecutive columns (spatial dropout), and {@link #variational}
 * reuses one mask per (sequence, feature) at every time step of rows laid out time-major. Both shape output masks
 * only, so DropConnect refuses them.
 */
public final class Dropout {

    private static final Dropout EVAL = new Dropout(false, 0f, 0L, 0L, 0L, 1, 0, 0);

    private final boolean training;
    private final float p;
    private final long seed;
    private final long offset;
    private final long elementBase;
    /** Whether the mask falls on the weights (DropConnect) rather than on the outputs. */
    private final boolean weights;
    /** Consecutive columns that share one draw (channel dropout); 1 draws per element. */
    private final int featuresPerChannel;
    /** Sequences of a time-major batch whose mask repeats every time step (variational dropout); 0 for none. */
    private final int sequences;
    /** The output's columns, which the variational period is measured in; 0 until a backend binds the call. */
    private final int columns;

    private Dropout(boolean training, float p, long seed, long offset, long elementBase, int featuresPerChannel,
                    int sequences, int columns) {
        this(training, p, seed, offset, elementBase, false, featuresPerChannel, sequences, columns);
    }

    private Dropout(boolean training, float p, long seed, long offset, long elementBase, boolean weights,
                    int featuresPerChannel, int sequences, int columns) {
        this.training = training;
        this.p = p;
        this.seed = seed;
        this.offset = offset;
        this.elementBase = elementBase;
        this.weights = weights;
        this.featuresPerChannel = featuresPerChannel;
        this.sequences = sequences;
        this.columns = columns;
    }

    private Dropout with(long newOffset, long newElementBase, int newFeaturesPerChannel, int newSequences,
                         int newColumns) {
        return new Dropout(training, p, seed, newOffset, newElementBase, weights, newFeaturesPerChannel,
                newSequences, newColumns);
    }

    /**
     * Training-mode dropout.
     *
     * @param p      probability of dropping an element, in [0, 1]
     * @param seed   Philox key
     * @param offset Philox counter offset; a layer advances it once per training call
     */
    public static Dropout train(float p, long seed, long offset) {
        return new Dropout(true, checkedP(p), seed, offset, 0L, 1, 0, 0);
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
        return new Dropout(true, checkedP(p), seed, offset, 0L, true, 1, 0, 0);
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
        return training && !weights ? with(offset, elementBase, featuresPerChannel, sequences, columns) : this;
    }

    /** The same settings one step later: how a layer moves to a fresh mask for its next training call. */
    public Dropout next() {
        return training ? with(offset + 1, elementBase, featuresPerChannel, sequences, columns) : this;
    }

    /**
     * Channel (spatial) dropout: the output {@code [n, out]} read as {@code [n, out / featuresPerChannel,
     * featuresPerChannel]}, one draw per (row, channel), so a channel's columns are kept or dropped together. Element
     * {@code g} of the batch draws mask index {@code g / featuresPerChannel}, which is {@code row·channels + channel};
     * a call whose {@code out} is not a multiple of it is refused. Evaluation ignores it.
     *
     * @param featuresPerChannel consecutive columns per channel, {@code >= 1} (1 is plain dropout)
     */
    public Dropout channels(int featuresPerChannel) {
        if (featuresPerChannel < 1) {
            throw new IllegalArgumentException("dropout featuresPerChannel must be >= 1 but is " + featuresPerChannel);
        }
        if (featuresPerChannel != 1) {
            refuseOnWeights("channels(" + featuresPerChannel + ")");
        }
        return training ? with(offset, elementBase, featuresPerChannel, sequences, columns) : this;
    }

    /**
     * Variational dropout: one mask per (sequence, feature), the same at every time step. Rows are time-major, row
     * {@code t·sequences + s} being step {@code t} of sequence {@code s}, and element {@code g} of the batch draws mask
     * index {@code g mod (sequences·out)}. A caller running one call per time step passes each step's call the same
     * dropout (same offset, no {@link #next()} between steps; element base 0, or {@code r0·out} for a slice that
     * starts at row {@code r0} of a step). Combined with {@link #channels}, the index is then divided by
     * {@code featuresPerChannel}. Evaluation ignores it.
     *
     * @param sequences sequences per time step, {@code >= 1}; 0 turns the option off
     */
    public Dropout variational(int sequences) {
        if (sequences < 0) {
            throw new IllegalArgumentException("dropout sequences must be >= 0 but is " + sequences);
        }
        if (sequences != 0) {
            refuseOnWeights("variational(" + sequences + ")");
        }
        return training ? with(offset, elementBase, featuresPerChannel, sequences, sequences == 0 ? 0 : columns)
                : this;
    }

    /** Channel and variational modes shape output masks; DropConnect's weight mask has no rows or channels. */
    private void refuseOnWeights(String mode) {
        if (weights) {
            throw new IllegalArgumentException("dropout mode " + mode + " applies to output masks only and cannot be"
                    + " combined with " + this);
        }
    }

    /**
     * The same settings bound to a call whose output has {@code out} columns, which the variational period
     * {@code sequences·out} is measured in; backends bind every call themselves. Returns this unless variational.
     */
    public Dropout withColumns(int out) {
        if (out < 1) {
            throw new IllegalArgumentException("dropout columns must be >= 1 but is " + out);
        }
        return training && sequences > 0 ? with(offset, elementBase, featuresPerChannel, sequences, out) : this;
    }

    /** Consecutive columns sharing one draw ({@link #channels}); 1 for plain dropout and in evaluation. */
    public int featuresPerChannel() {
        return featuresPerChannel;
    }

    /** Sequences whose mask repeats every time step ({@link #variational}); 0 for none. */
    public int sequences() {
        return sequences;
    }

    /** The output columns bound by {@link #withColumns}; 0 when not bound (or not variational). */
    public int columns() {
        return columns;
    }

    /** Whether every element draws its own mask index (neither {@link #channels} nor {@link #variational}). */
    public boolean elementwise() {
        return featuresPerChannel == 1 && sequences == 0;
    }

    /**
     * The variational period {@code sequences·columns} in elements, 0 when not variational.
     *
     * @throws IllegalStateException when variational and no columns are bound yet
     */
    public long maskPeriod() {
        if (sequences == 0) {
            return 0;
        }
        if (columns == 0) {
            throw new IllegalStateException("variational dropout needs the output's columns: call withColumns(out)");
        }
        return (long) sequences * columns;
    }

    /**
     * The mask index element {@code g} of the batch (its flat index, element base included) draws:
     * {@code (sequences > 0 ? g mod (sequences·columns) : g) / featuresPerChannel}; {@code g} itself for plain dropout.
     */
    public long maskIndex(long g) {
        long period = maskPeriod();
        long m = period == 0 ? g : g % period;
        return featuresPerChannel == 1 ? m : m / featuresPerChannel;
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
                + (elementBase == 0 ? "" : ", elementBase=" + elementBase)
                + (featuresPerChannel == 1 ? "" : ", featuresPerChannel=" + featuresPerChannel)
                + (sequences == 0 ? "" : ", sequences=" + sequences)
                + (columns == 0 ? "" : ", columns=" + columns) + ")" : "Dropout.eval()";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dropout d && d.training == training && Float.compare(d.p, p) == 0
                && d.seed == seed && d.offset == offset && d.elementBase == elementBase
                && d.weights == weights && d.featuresPerChannel == featuresPerChannel && d.sequences == sequences
                && d.columns == columns;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(training, p, seed, offset, elementBase, weights, featuresPerChannel, sequences,
                columns);
    }
}
