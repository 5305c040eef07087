package dev.fuse4j.nn;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.Tensor;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A fully connected layer on the backend's fused op: {@code y = dropout(act(x·Wᵀ + b))} with {@code W [out, in]}
 * and {@code b [out]}. In training each forward pass draws a fresh mask by advancing the layer's Philox offset by
 * one; backward regenerates that same mask rather than storing it.
 *
 * <p>A network's first layer may also drop its input features in training ({@code inputP}, the identity in
 * evaluation), through {@link Backend#dropout}: its mask is keyed by a seed of its own and drawn at the layer's
 * offset, so it never coincides with the output masks' stream, and backward's {@code dw} sums over the dropped input.
 */
public final class Dense implements Layer {

    private final Backend backend;
    private final int in;
    private final int out;
    private final Activation activation;
    private final float p;
    private final long dropoutSeed;
    private final DropoutMode dropoutMode;
    /** Dropout of the layer's input features in training; 0 for none. */
    private final float inputP;
    private final long inputDropoutSeed;
    private final Parameter weight;
    private final Parameter bias;

    private boolean training = true;
    private long dropoutOffset;

    // From the last forward pass: the input (borrowed, or owned when input dropout made it), the output and the
    // pre-activation GELU and ELU need (owned), the masks.
    private Tensor lastX;
    private boolean ownsLastX;
    private Dropout lastInputDropout;
    private Tensor lastY;
    private Tensor lastZ;
    private Dropout lastDropout;

    /**
     * @param name        prefix of the parameter names, such as {@code layer0}
     * @param p           dropout probability in training, in [0, 1)
     * @param initSeed    seeds the weight initialisation
     * @param dropoutSeed the Philox key of this layer's masks; layers of one model need different ones, or
     *                    equally shaped layers would drop the same elements
     */
    public Dense(Backend backend, String name, int in, int out, Activation activation, float p, long initSeed,
                 long dropoutSeed) {
        this(backend, name, in, out, activation, p, initSeed, dropoutSeed, DropoutMode.PLAIN);
    }

    /**
     * As above, with channel or variational dropout ({@link DropoutMode}); channels must divide {@code out}.
     */
    public Dense(Backend backend, String name, int in, int out, Activation activation, float p, long initSeed,
                 long dropoutSeed, DropoutMode dropoutMode) {
        this(backend, name, in, out, activation, p, initSeed, dropoutSeed, dropoutMode, 0f, 0L);
    }

    /**
     * As above, with dropout of the input features in training as well (a network's first layer).
     *
     * @param inputP           probability of dropping an input feature, in [0, 1); 0 for none
     * @param inputDropoutSeed the Philox key of the input masks; must differ from {@code dropoutSeed}
     */
    public Dense(Backend backend, String name, int in, int out, Activation activation, float p, long initSeed,
                 long dropoutSeed, DropoutMode dropoutMode, float inputP, long inputDropoutSeed) {
        if (!(inputP >= 0f && inputP < 1f)) {
            throw new IllegalArgumentException("input dropout p must be in [0, 1) but is " + inputP);
        }
        if (inputP > 0f && inputDropoutSeed == dropoutSeed) {
            throw new IllegalArgumentException("the input dropout seed " + inputDropoutSeed + " is the output "
                    + "dropout's: the two masks would share one Philox stream");
        }
        this.inputP = inputP;
        this.inputDropoutSeed = inputDropoutSeed;
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("a dense layer needs in > 0 and out > 0 but has in=" + in
                    + ", out=" + out);
        }
        if (out % dropoutMode.featuresPerChannel() != 0) {
            throw new IllegalArgumentException("channel dropout's featuresPerChannel "
                    + dropoutMode.featuresPerChannel() + " does not divide the layer's " + out + " outputs");
        }
        this.dropoutMode = dropoutMode;
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException("dropout p of a trainable layer must be in [0, 1) but is " + p
                    + " (p = 1 drops every element and no gradient reaches the weights)");
        }
        this.backend = backend;
        this.in = in;
        this.out = out;
        this.activation = activation;
        this.p = p;
        this.dropoutSeed = dropoutSeed;
        float[] w = initialWeights(in, out, activation, initSeed);
        Tensor wt = backend.tensor(w, out, in);
        Tensor bt;
        try {
            bt = backend.zeros(out);
        } catch (RuntimeException e) {
            wt.close();
            throw e;
        }
        this.weight = new Parameter(name + ".weight", wt);
        this.bias = new Parameter(name + ".bias", bt);
    }

    /**
     * He (Kaiming) uniform initialisation for the ReLU family, gain √(2 / (1 + α²)), so activations keep their
     * scale through deep ReLU stacks; GELU and ELU are close enough to ReLU to share it. Glorot uniform for the plain
     * linear layer, whose output feeds a softmax rather than another activation.
     */
    static float[] initialWeights(int in, int out, Activation act, long seed) {
        double bound = switch (act.kind()) {
            case RELU, GELU, ELU -> Math.sqrt(6.0 / in);
            case LEAKY_RELU -> Math.sqrt(6.0 / ((1.0 + (double) act.alpha() * act.alpha()) * in));
            case IDENTITY -> Math.sqrt(6.0 / (in + out));
        };
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[Math.multiplyExact(in, out)];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) ((2.0 * r.nextDouble() - 1.0) * bound);
        }
        return w;
    }

    @Override
    public int inFeatures() {
        return in;
    }

    @Override
    public int outFeatures() {
        return out;
    }

    public Activation activation() {
        return activation;
    }

    public float dropoutP() {
        return p;
    }

    /** Dropout of the input features in training; 0 when the layer keeps its whole input. */
    public float inputDropoutP() {
        return inputP;
    }

    /** How the layer's dropout shares its draws ({@link DropoutMode#PLAIN} unless channel or variational). */
    public DropoutMode dropoutMode() {
        return dropoutMode;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x) {
        return forward(x, 0);
    }

    @Override
    public Tensor forward(Tensor x, long rowBase) {
        checkRowBase(rowBase);
        Dropout d = training && p > 0f
                ? dropoutMode.applyTo(Dropout.train(p, dropoutSeed, dropoutOffset)).withElementBase(rowBase * out)
                : Dropout.eval();
        Dropout dIn = training && inputP > 0f
                ? Dropout.train(inputP, inputDropoutSeed, dropoutOffset).withElementBase(rowBase * in)
                : Dropout.eval();
        Tensor y = forward(x, d, dIn);
        if (d.training() || dIn.training()) {
            dropoutOffset++;
        }
        return y;
    }

    /**
     * One pass of MC dropout: the forward pass in training mode whatever the layer's mode, with masks keyed by
     * {@code derive(key, sampleSeed)} for the layer's output key and its input key, at offset {@code sample}, so that
     * they depend on the sample seed and index alone and never on the training run. Leaves the layer's offset as it
     * was; like {@link #forward}, it replaces the activations kept for backward.
     *
     * @param rowBase    the index of x's first row in the whole set it is a slice of
     * @param sampleSeed seeds the passes of one prediction
     * @param sample     the pass, from 0
     */
    public Tensor forwardSample(Tensor x, long rowBase, long sampleSeed, long sample) {
        checkRowBase(rowBase);
        long key = Sequential.Builder.derive(dropoutSeed, sampleSeed);
        long inputKey = Sequential.Builder.derive(inputDropoutSeed, sampleSeed);
        Dropout d = p > 0f ? dropoutMode.applyTo(Dropout.train(p, key, sample)).withElementBase(rowBase * out)
                : Dropout.eval();
        Dropout dIn = inputP > 0f ? Dropout.train(inputP, inputKey, sample).withElementBase(rowBase * in)
                : Dropout.eval();
        return forward(x, d, dIn);
    }

    private void checkRowBase(long rowBase) {
        int widest = Math.max(in, out);
        if (rowBase < 0 || rowBase > Long.MAX_VALUE / widest) {
            throw new IllegalArgumentException(describe() + ": row base must be in [0, " + Long.MAX_VALUE / widest
                    + "] (its element base rowBase·" + widest + " is a 64-bit index) but is " + rowBase);
        }
    }

    /** The forward pass with the given output and input dropout; keeps what backward needs. */
    private Tensor forward(Tensor x, Dropout d, Dropout dIn) {
        int n = x.shape()[0];
        Tensor xIn = dIn.training() ? backend.dropout(x, dIn) : x;
        Tensor z = null;
        Tensor y;
        try {
            z = activation.backwardNeedsPreActivation() ? backend.zeros(n, out) : null;
            y = backend.linear(xIn, weight.value(), bias.value(), activation, d, z);
        } catch (RuntimeException e) {
            if (z != null) {
                z.close();
            }
            if (xIn != x) {
                xIn.close();
            }
            throw e;
        }
        releaseActivations();
        lastX = xIn;
        ownsLastX = xIn != x;
        lastY = y;
        lastZ = z;
        lastDropout = d;
        lastInputDropout = dIn;
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, boolean inputGradient) {
        if (lastY == null) {
            throw new IllegalStateException(describe() + ": backward called before forward");
        }
        if (lastX.isClosed()) {
            throw new IllegalStateException(describe() + ": the input of the last forward pass was closed "
                    + "before backward; keep it open until backward has run");
        }
        LinearGrads g = backend.linearBackward(dy, lastX, weight.value(), lastY, lastZ, activation, lastDropout,
                inputGradient);
        weight.setGrad(g.dw());
        bias.setGrad(g.db());
        if (g.dx() == null || !lastInputDropout.training()) {
            return g.dx();
        }
        // The input mask's backward is the same mask and scale on the gradient.
        try (Tensor dxOfDropped = g.dx()) {
            return backend.dropout(dxOfDropped, lastInputDropout);
        }
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    @Override
    public void setTraining(boolean training) {
        this.training = training;
    }

    @Override
    public long dropoutOffset() {
        return dropoutOffset;
    }

    @Override
    public void setDropoutOffset(long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException(describe() + ": dropout offset must be >= 0 but is " + offset);
        }
        dropoutOffset = offset;
    }

    /** The output of the last forward pass (owned by the layer), or null before the first one. */
    public Tensor lastOutput() {
        return lastY;
    }

    /** The dropout of the last forward pass ({@link Dropout#eval()} in evaluation or with p = 0). */
    public Dropout lastDropout() {
        return lastDropout;
    }

    /** The input dropout of the last forward pass ({@link Dropout#eval()} in evaluation or without one). */
    public Dropout lastInputDropout() {
        return lastInputDropout;
    }

    @Override
    public String describe() {
        String act = switch (activation.kind()) {
            case RELU -> "relu";
            case LEAKY_RELU -> String.format(Locale.ROOT, "leaky_relu(%s)", activation.alpha());
            case GELU -> "gelu";
            case IDENTITY -> "linear";
            case ELU -> String.format(Locale.ROOT, "elu(%s)", activation.alpha());
        };
        return String.format(Locale.ROOT, "dense(%d->%d, %s, p=%s, seed=%d%s%s)", in, out, act, p, dropoutSeed,
                dropoutMode.plain() ? "" : ", " + dropoutMode.spelling(),
                inputP > 0f ? String.format(Locale.ROOT, ", input_p=%s, input_seed=%d", inputP, inputDropoutSeed)
                        : "");
    }

    private void releaseActivations() {
        try {
            if (lastY != null) {
                lastY.close();
            }
        } finally {
            if (lastZ != null) {
                lastZ.close();
            }
            if (ownsLastX) {
                lastX.close();
                ownsLastX = false;
            }
            lastX = null;
            lastY = null;
            lastZ = null;
        }
    }

    @Override
    public void close() {
        try {
            releaseActivations();
        } finally {
            try {
                weight.close();
            } finally {
                bias.close();
            }
        }
    }

    @Override
    public String toString() {
        return describe();
    }
}
