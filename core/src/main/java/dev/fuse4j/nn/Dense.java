package dev.fuse4j.nn;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A fully connected layer on the backend's fused op: {@code y = dropout(act(x·Wᵀ + b))} with {@code W [out, in]}
 * and {@code b [out]}. With {@link Activation#prelu()} the layer also owns PReLU's slopes {@code a [out]}, a
 * parameter like the others (initialised to 0.25, as PyTorch's {@code nn.PReLU}), named as the weight of the
 * PyTorch module the export writes after the linear one ({@code layer0_act.weight}). In training each forward
 * pass draws a fresh mask by advancing the layer's Philox offset by one; backward regenerates that same mask rather
 * than storing it. With DropConnect the mask falls on W instead ({@code y = act(x·(W ⊙ M)ᵀ/(1 − p) + b)},
 * {@link Dropout#dropConnect}), one per forward pass.
 *
 * <p>With batch normalisation ({@link BatchNorm}) the layer is {@code y = dropout(act(bn(x·Wᵀ + b)))}: in training
 * the GEMM writes {@code z} and a second pass normalises, activates and drops; in evaluation the running statistics
 * are folded into W and b and the layer runs as the single fused op.
 */
public final class Dense implements Layer {

    private final Backend backend;
    private final int in;
    private final int out;
    private final Activation activation;
    private final float p;
    /** Whether p masks the weights (DropConnect) rather than the outputs. */
    private final boolean dropConnect;
    private final long dropoutSeed;
    private final Parameter weight;
    private final Parameter bias;
    /** PReLU's slopes, or null for every other activation. */
    private final Parameter slope;
    /** Batch normalisation between the GEMM and the activation, or null. */
    private final BatchNorm batchNorm;

    private boolean training = true;
    private long dropoutOffset;

    // From the last forward pass: the input (borrowed), the output and the pre-activation GELU, ELU and PReLU need
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
        this(backend, name, in, out, activation, p, false, initSeed, dropoutSeed, false);
    }

    /**
     * As {@link #Dense(Backend, String, int, int, Activation, float, long, long)}, with {@code dropConnect} choosing
     * where p's mask falls: on the weights (DropConnect) when true, on the outputs when false.
     */
    public Dense(Backend backend, String name, int in, int out, Activation activation, float p, boolean dropConnect,
                 long initSeed, long dropoutSeed) {
        this(backend, name, in, out, activation, p, dropConnect, initSeed, dropoutSeed, false);
    }

    /**
     * As {@link #Dense(Backend, String, int, int, Activation, float, long, long)}, with batch normalisation before
     * the activation when {@code batchNorm} is true (PyTorch's defaults: eps 1e-5, momentum 0.1), its scale and shift
     * the parameters {@code <name>.gamma} and {@code <name>.beta}.
     */
    public Dense(Backend backend, String name, int in, int out, Activation activation, float p, long initSeed,
                 long dropoutSeed, boolean batchNorm) {
        this(backend, name, in, out, activation, p, false, initSeed, dropoutSeed, batchNorm);
    }

    /**
     * The layer with every option: DropConnect ({@code dropConnect}) and batch normalisation ({@code batchNorm}),
     * which exclude each other (DropConnect masks the GEMM's weights, batch norm then renormalises what it made).
     */
    public Dense(Backend backend, String name, int in, int out, Activation activation, float p, boolean dropConnect,
                 long initSeed, long dropoutSeed, boolean batchNorm) {
        if (batchNorm && dropConnect) {
            throw new IllegalArgumentException("a dense layer takes DropConnect or batch norm, not both");
        }
        if (batchNorm && activation.kind() == Activation.Kind.PRELU) {
            throw new IllegalArgumentException("PReLU cannot follow batch norm: batch norm's activation pass has no "
                    + "per-feature slopes (leaky ReLU can follow it)");
        }
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("a dense layer needs in > 0 and out > 0 but has in=" + in
                    + ", out=" + out);
        }
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException("dropout p of a trainable layer must be in [0, 1) but is " + p
                    + " (p = 1 drops every element and no gradient reaches the weights)");
        }
        if (activation.kind() == Activation.Kind.PRELU && activation.slope() != null) {
            throw new IllegalArgumentException("a dense layer owns its PReLU slopes: pass Activation.prelu(), not a "
                    + "slope tensor of shape " + java.util.Arrays.toString(activation.slope().shape()));
        }
        this.backend = backend;
        this.in = in;
        this.out = out;
        this.activation = activation;
        this.p = p;
        this.dropConnect = dropConnect;
        this.dropoutSeed = dropoutSeed;
        float[] w = initialWeights(in, out, activation, initSeed);
        Tensor wt = backend.tensor(w, out, in);
        Tensor bt = null;
        Tensor at = null;
        try {
            bt = backend.zeros(out);
            if (activation.kind() == Activation.Kind.PRELU) {
                float[] a = new float[out];
                java.util.Arrays.fill(a, INITIAL_SLOPE);
                at = backend.tensor(a, out);
            }
        } catch (RuntimeException e) {
            wt.close();
            if (bt != null) {
                bt.close();
            }
            throw e;
        }
        this.weight = new Parameter(name + ".weight", wt);
        this.bias = new Parameter(name + ".bias", bt);
        BatchNorm bn = null;
        if (batchNorm) {
            try {
                bn = new BatchNorm(backend, name, out, BatchNorm.DEFAULT_EPS, BatchNorm.DEFAULT_MOMENTUM);
            } catch (RuntimeException e) {
                weight.close();
                bias.close();
                throw e;
            }
        }
        this.batchNorm = bn;
        this.slope = at == null ? null : new Parameter(name + SLOPE_SUFFIX, at);
    }

    /** PReLU's initial slope, PyTorch's {@code nn.PReLU} default. */
    static final float INITIAL_SLOPE = 0.25f;
    /** The slope parameter's name after the layer's: the PyTorch PReLU module's weight in the export. */
    public static final String SLOPE_SUFFIX = "_act.weight";

    /**
     * He (Kaiming) uniform initialisation for the ReLU family, gain √(2 / (1 + α²)), so activations keep their
     * scale through deep ReLU stacks; GELU and ELU are close enough to ReLU to share it. Glorot uniform for the plain
     * linear layer, whose output feeds a softmax rather than another activation.
     */
    static float[] initialWeights(int in, int out, Activation act, long seed) {
        double bound = switch (act.kind()) {
            case RELU, GELU, ELU -> Math.sqrt(6.0 / in);
            case LEAKY_RELU -> Math.sqrt(6.0 / ((1.0 + (double) act.alpha() * act.alpha()) * in));
            case PRELU -> Math.sqrt(6.0 / ((1.0 + (double) INITIAL_SLOPE * INITIAL_SLOPE) * in));
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

    /** Whether {@link #dropoutP()} masks the weights (DropConnect) rather than the outputs. */
    public boolean dropConnect() {
        return dropConnect;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    /** PReLU's slopes {@code [out]}, or null when the activation is not PReLU. */
    public Parameter slope() {
        return slope;
    }

    /** The activation the fused op runs: PReLU with the slope tensor as it is now, else the layer's own. */
    private Activation fusedActivation() {
        return slope == null ? activation : Activation.prelu(slope.value());
    }

    /** The layer's batch normalisation, or null when it has none. */
    public BatchNorm batchNorm() {
        return batchNorm;
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
        Dropout d = !training || p == 0f ? Dropout.eval()
                : dropConnect ? Dropout.dropConnect(p, dropoutSeed, dropoutOffset) // one weight mask for every row
                : Dropout.train(p, dropoutSeed, dropoutOffset).withElementBase(rowBase * out);
        int n = x.shape()[0];
        Tensor z;
        Tensor y;
        if (batchNorm != null) {
            Tensor[] zy = training ? batchNormTraining(x, d) : new Tensor[] {null, folded(x)};
            z = zy[0];
            y = zy[1];
        } else {
            z = activation.backwardNeedsPreActivation() ? backend.zeros(n, out) : null;
            try {
                y = backend.linear(x, weight.value(), bias.value(), fusedActivation(), d, z);
            } catch (RuntimeException e) {
                if (z != null) {
                    z.close();
                }
                throw e;
            }
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

    /** Training with batch norm: pass 1 the GEMM writes {@code z}, pass 2 normalises, activates and drops. */
    private Tensor[] batchNormTraining(Tensor x, Dropout d) {
        Tensor z = backend.linear(x, weight.value(), bias.value(), Activation.identity(), Dropout.eval(), null);
        try {
            return new Tensor[] {z, batchNorm.forwardTraining(z, activation, d, describe())};
        } catch (RuntimeException e) {
            z.close();
            throw e;
        }
    }

    /** Evaluation with batch norm: the fused op on W and b with the running statistics folded in. */
    private Tensor folded(Tensor x) {
        float[][] wb = batchNorm.fold(weight.value().toArray(), bias.value().toArray());
        try (Tensor w = backend.tensor(wb[0], out, in); Tensor b = backend.tensor(wb[1], out)) {
            return backend.linear(x, w, b, activation, Dropout.eval(), null);
        }
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
        if (batchNorm != null) {
            return batchNormBackward(dy, inputGradient);
        }
        LinearGrads g = backend.linearBackward(dy, lastX, weight.value(), lastY, lastZ, fusedActivation(),
                lastDropout, inputGradient);
        weight.setGrad(g.dw());
        bias.setGrad(g.db());
        if (slope != null) {
            slope.setGrad(g.da());
        }
        return g.dx();
    }

    /** Backward through batch norm to {@code dz}, then the layer's own gradients from it (identity, no mask). */
    private Tensor batchNormBackward(Tensor dy, boolean inputGradient) {
        if (lastZ == null) {
            throw new IllegalStateException(describe() + ": batch norm backward needs a training forward pass (an "
                    + "evaluation pass folds the running statistics into the weights and keeps nothing to go back "
                    + "through)");
        }
        try (Tensor dz = batchNorm.backward(dy, lastY, lastZ, activation, lastDropout)) {
            LinearGrads g = backend.linearBackward(dz, lastX, weight.value(), dz, null, Activation.identity(),
                    Dropout.eval(), inputGradient);
            weight.setGrad(g.dw());
            bias.setGrad(g.db());
            return g.dx();
        }
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(List.of(weight, bias));
        if (slope != null) {
            ps.add(slope);
        }
        if (batchNorm != null) {
            ps.add(batchNorm.gamma());
            ps.add(batchNorm.beta());
        }
        return List.copyOf(ps);
    }

    @Override
    public float[] runningStatistics() {
        return batchNorm == null ? new float[0] : batchNorm.runningStatistics();
    }

    @Override
    public void loadRunningStatistics(float[] statistics) {
        if (batchNorm == null) {
            Layer.super.loadRunningStatistics(statistics);
        } else {
            batchNorm.loadRunningStatistics(statistics, describe());
        }
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
            case PRELU -> "prelu";
        };
        return String.format(Locale.ROOT, "dense(%d->%d, %s, %sp=%s, seed=%d%s)", in, out, act,
                dropConnect ? "dropconnect " : "", p, dropoutSeed,
                batchNorm == null ? "" : ", " + batchNorm.describe());
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
                try {
                    bias.close();
                } finally {
                    try {
                        if (slope != null) {
                            slope.close();
                        }
                    } finally {
                        if (batchNorm != null) {
                            batchNorm.close();
                        }
                    }
                }
            }
        }
    }

    @Override
    public String toString() {
        return describe();
    }
}
