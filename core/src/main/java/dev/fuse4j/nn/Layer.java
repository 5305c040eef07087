package dev.fuse4j.nn;

import dev.fuse4j.Tensor;

import java.util.List;

/**
 * One stage of a {@link Sequential} model. A layer keeps what its backward pass needs from the last forward pass
 * (its output, and its input by reference) and owns the tensors it returns from {@link #forward}.
 */
public interface Layer extends AutoCloseable {

    int inFeatures();

    int outFeatures();

    /**
     * The layer's output for {@code x [n, inFeatures]}. The returned tensor belongs to the layer and stays valid
     * until its next forward pass or {@link #close()}; {@code x} must stay open until {@link #backward} has run.
     */
    Tensor forward(Tensor x);

    /**
     * As {@link #forward(Tensor)} when {@code x} holds rows {@code [rowBase, rowBase + n)} of a larger batch: a layer
     * with dropout draws the mask those rows have in the whole batch (element base {@code rowBase · outFeatures}, see
     * {@link dev.fuse4j.Dropout#withElementBase}). A layer that draws no random numbers computes the same either way,
     * which is what this default does.
     */
    default Tensor forward(Tensor x, long rowBase) {
        return forward(x);
    }

    /**
     * Backward of the last forward pass from {@code dy [n, outFeatures]}: stores the parameter gradients and
     * returns {@code dx [n, inFeatures]}, which the caller owns and closes.
     */
    default Tensor backward(Tensor dy) {
        return backward(dy, true);
    }

    /**
     * As {@link #backward(Tensor)}; with {@code inputGradient} false the layer skips {@code dx} (the first layer of a
     * model, whose input is data) and returns null.
     */
    Tensor backward(Tensor dy, boolean inputGradient);

    List<Parameter> parameters();

    /** Training mode on (dropout active, a fresh mask per forward pass) or off (dropout is the identity). */
    void setTraining(boolean training);

    /**
     * The Philox offset at which the next training forward pass draws its dropout mask (0 for a layer without
     * dropout). Checkpoints save and restore it so a resumed run draws the masks an uninterrupted one would.
     */
    long dropoutOffset();

    /** Sets the offset {@link #dropoutOffset()} reports; negative offsets are refused. */
    void setDropoutOffset(long offset);

    /**
     * State the layer keeps beside its parameters and does not train, in one array (batch norm's running means then
     * running variances); empty for a layer without any. Checkpoints save and restore it.
     */
    default float[] runningStatistics() {
        return new float[0];
    }

    /** Replaces what {@link #runningStatistics()} reports; an array of another length is refused. */
    default void loadRunningStatistics(float[] statistics) {
        if (statistics.length != 0) {
            throw new IllegalArgumentException(describe() + " keeps no running statistics but " + statistics.length
                    + " values were given");
        }
    }

    /** A one-line description of the architecture, which checkpoints compare before they restore anything. */
    String describe();

    /** Releases the parameters, gradients and cached activations. */
    @Override
    void close();
}
