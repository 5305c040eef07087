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
 */
public final class Dense implements Layer {

    private final Backend backend;
    private final int in;
    private final int out;
    private final Activation activation;
    private final float p;
    private final long dropoutSeed;
    private final DropoutMode dropoutMode;
    private final Parameter weight;
    private final Parameter bias;

    private boolean training = true;
    private long dropoutOffset;

    // From the last forward pass: the input (borrowed), the output and the pre-activation GELU and ELU need
    // (owned), the mask.
    private Tensor lastX;
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
        if (rowBase < 0 || rowBase > Long.MAX_VALUE / out) {
            throw new IllegalArgumentException(describe() + ": row base must be in [0, " + Long.MAX_VALUE / out
                    + "] (its element base rowBase·" + out + " is a 64-bit index) but is " + rowBase);
        }
        Dropout d = training && p > 0f
                ? dropoutMode.applyTo(Dropout.train(p, dropoutSeed, dropoutOffset)).withElementBase(rowBase * out)
                : Dropout.eval();
        int n = x.shape()[0];
        Tensor z = activation.backwardNeedsPreActivation() ? backend.zeros(n, out) : null;
        Tensor y;
        try {
            y = backend.linear(x, weight.value(), bias.value(), activation, d, z);
        } catch (RuntimeException e) {
            if (z != null) {
                z.close();
            }
            throw e;
        }
        releaseActivations();
        lastX = x;
        lastY = y;
        lastZ = z;
        lastDropout = d;
        if (d.training()) {
            dropoutOffset++;
        }
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
        return g.dx();
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

    @Override
    public String describe() {
        String act = switch (activation.kind()) {
            case RELU -> "relu";
            case LEAKY_RELU -> String.format(Locale.ROOT, "leaky_relu(%s)", activation.alpha());
            case GELU -> "gelu";
            case IDENTITY -> "linear";
            case ELU -> String.format(Locale.ROOT, "elu(%s)", activation.alpha());
        };
        return String.format(Locale.ROOT, "dense(%d->%d, %s, p=%s, seed=%d%s)", in, out, act, p, dropoutSeed,
                dropoutMode.plain() ? "" : ", " + dropoutMode.spelling());
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
