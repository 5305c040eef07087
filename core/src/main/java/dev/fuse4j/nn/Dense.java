package dev.fuse4j.nn;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.LinearStatistics;
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
    /** Whether p masks the weights (DropConnect) rather than the outputs. */
    private final boolean dropConnect;
    private final long dropoutSeed;
    private final DropoutMode dropoutMode;
    /** Dropout of the layer's input features in training; 0 for none. */
    private final float inputP;
    private final long inputDropoutSeed;
    private final Parameter weight;
    private final Parameter bias;
    /** PReLU's slopes, or null for every other activation. */
    private final Parameter slope;
    /** Batch normalisation between the GEMM and the activation, or null. */
    private final BatchNorm batchNorm;

    private boolean training = true;
    private long dropoutOffset;

    // From the last forward pass: the input (borrowed, or owned when input dropout made it), the output and the
    // pre-activation GELU, ELU, PReLU and batch norm need (owned), the masks.
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
        this(backend, name, in, out, activation, p, dropConnect, initSeed, dropoutSeed, batchNorm, DropoutMode.PLAIN,
                0f, 0L);
    }

    /**
     * As {@link #Dense(Backend, String, int, int, Activation, float, long, long)}, with channel or variational
     * dropout ({@link DropoutMode}); channels must divide {@code out}.
     */
    public Dense(Backend backend, String name, int in, int out, Activation activation, float p, long initSeed,
                 long dropoutSeed, DropoutMode dropoutMode) {
        this(backend, name, in, out, activation, p, false, initSeed, dropoutSeed, false, dropoutMode, 0f, 0L);
    }

    /**
     * As {@link #Dense(Backend, String, int, int, Activation, float, long, long, DropoutMode)}, with dropout of the
     * input features in training as well (a network's first layer).
     *
     * @param inputP           probability of dropping an input feature, in [0, 1); 0 for none
     * @param inputDropoutSeed the Philox key of the input masks; must differ from {@code dropoutSeed}
     */
    public Dense(Backend backend, String name, int in, int out, Activation activation, float p, long initSeed,
                 long dropoutSeed, DropoutMode dropoutMode, float inputP, long inputDropoutSeed) {
        this(backend, name, in, out, activation, p, false, initSeed, dropoutSeed, false, dropoutMode, inputP,
                inputDropoutSeed);
    }

    /**
     * The layer with every option: DropConnect ({@code dropConnect}) and batch normalisation ({@code batchNorm}),
     * which exclude each other (DropConnect masks the GEMM's weights, batch norm then renormalises what it made);
     * channel or variational dropout ({@code dropoutMode}), which shapes output masks and so excludes DropConnect;
     * and input dropout ({@code inputP}, {@code inputDropoutSeed}).
     */
    public Dense(Backend backend, String name, int in, int out, Activation activation, float p, boolean dropConnect,
                 long initSeed, long dropoutSeed, boolean batchNorm, DropoutMode dropoutMode, float inputP,
                 long inputDropoutSeed) {
        if (batchNorm && dropConnect) {
            throw new IllegalArgumentException("a dense layer takes DropConnect or batch norm, not both");
        }
        if (batchNorm && activation.kind() == Activation.Kind.PRELU) {
            throw new IllegalArgumentException("PReLU cannot follow batch norm: batch norm's activation pass has no "
                    + "per-feature slopes (leaky ReLU can follow it)");
        }
        if (dropConnect && !dropoutMode.plain()) {
            throw new IllegalArgumentException("dropout mode " + dropoutMode.spelling() + " shapes output masks and "
                    + "cannot be combined with DropConnect, whose mask falls on the weights");
        }
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
        checkRowBase(rowBase);
        Dropout d = training ? outputDropout(dropoutSeed, dropoutOffset, rowBase) : Dropout.eval();
        Dropout dIn = training && inputP > 0f
                ? Dropout.train(inputP, inputDropoutSeed, dropoutOffset).withElementBase(rowBase * in)
                : Dropout.eval();
        Tensor y = forward(x, d, dIn, training);
        if (d.training() || dIn.training()) {
            dropoutOffset++;
        }
        return y;
    }

    /**
     * One pass of MC dropout: the forward pass in training mode whatever the layer's mode, with masks keyed by
     * {@code derive(key, sampleSeed)} for the layer's output key and its input key, at offset {@code sample}, so that
     * they depend on the sample seed and index alone and never on the training run. Batch norm uses its running
     * statistics (folded into W and b) and leaves them as they are. Leaves the layer's offset as it was; like
     * {@link #forward}, it replaces the activations kept for backward.
     *
     * @param rowBase    the index of x's first row in the whole set it is a slice of
     * @param sampleSeed seeds the passes of one prediction
     * @param sample     the pass, from 0
     */
    public Tensor forwardSample(Tensor x, long rowBase, long sampleSeed, long sample) {
        checkRowBase(rowBase);
        long key = Sequential.Builder.derive(dropoutSeed, sampleSeed);
        long inputKey = Sequential.Builder.derive(inputDropoutSeed, sampleSeed);
        Dropout d = outputDropout(key, sample, rowBase);
        Dropout dIn = inputP > 0f ? Dropout.train(inputP, inputKey, sample).withElementBase(rowBase * in)
                : Dropout.eval();
        return forward(x, d, dIn, false);
    }

    /** The layer's training dropout under {@code key} at {@code offset}: on W for DropConnect, else on the outputs. */
    private Dropout outputDropout(long key, long offset, long rowBase) {
        if (p == 0f) {
            return Dropout.eval();
        }
        return dropConnect ? Dropout.dropConnect(p, key, offset) // one weight mask for every row
                : dropoutMode.applyTo(Dropout.train(p, key, offset)).withElementBase(rowBase * out);
    }

    private void checkRowBase(long rowBase) {
        int widest = Math.max(in, out);
        if (rowBase < 0 || rowBase > Long.MAX_VALUE / widest) {
            throw new IllegalArgumentException(describe() + ": row base must be in [0, " + Long.MAX_VALUE / widest
                    + "] (its element base rowBase·" + widest + " is a 64-bit index) but is " + rowBase);
        }
    }

    /**
     * The forward pass with the given output and input dropout; keeps what backward needs. With batch norm,
     * {@code batchStatistics} normalises by the batch's statistics (training), else by the running ones.
     */
    private Tensor forward(Tensor x, Dropout d, Dropout dIn, boolean batchStatistics) {
        int n = x.shape()[0];
        Tensor xIn = dIn.training() ? backend.dropout(x, dIn) : x;
        Tensor z = null;
        Tensor y;
        try {
            if (batchNorm != null) {
                Tensor[] zy = batchStatistics ? batchNormTraining(xIn, d) : new Tensor[] {null, folded(xIn, d)};
                z = zy[0];
                y = zy[1];
            } else {
                z = activation.backwardNeedsPreActivation() ? backend.zeros(n, out) : null;
                y = backend.linear(xIn, weight.value(), bias.value(), fusedActivation(), d, z);
            }
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

    /**
     * Training with batch norm: pass 1 the GEMM writes {@code z} and sums its statistics as it stores it, pass 2
     * normalises, activates and drops.
     */
    private Tensor[] batchNormTraining(Tensor x, Dropout d) {
        batchNorm.requireTrainingRows(x.shape()[0], describe());
        LinearStatistics zs = backend.linearWithStatistics(x, weight.value(), bias.value());
        try {
            return new Tensor[] {zs.z(), batchNorm.forwardTraining(zs.z(), zs.stats(), activation, d)};
        } catch (RuntimeException e) {
            zs.close();
            throw e;
        }
    }

    /**
     * Batch norm by its running statistics: the fused op on W and b with them folded in, and {@code d} (evaluation,
     * or an MC dropout pass).
     */
    private Tensor folded(Tensor x, Dropout d) {
        float[][] wb = batchNorm.fold(weight.value().toArray(), bias.value().toArray());
        try (Tensor w = backend.tensor(wb[0], out, in); Tensor b = backend.tensor(wb[1], out)) {
            return backend.linear(x, w, b, activation, d, null);
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
        return inputDropoutBackward(g.dx());
    }

    /** The input mask's backward is the same mask and scale on the gradient; consumes {@code dx}. */
    private Tensor inputDropoutBackward(Tensor dx) {
        if (dx == null || !lastInputDropout.training()) {
            return dx;
        }
        try (Tensor dxOfDropped = dx) {
            return backend.dropout(dxOfDropped, lastInputDropout);
        }
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
            return inputDropoutBackward(g.dx());
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
            case PRELU -> "prelu";
        };
        return String.format(Locale.ROOT, "dense(%d->%d, %s, %sp=%s, seed=%d%s%s%s)", in, out, act,
                dropConnect ? "dropconnect " : "", p, dropoutSeed,
                dropoutMode.plain() ? "" : ", " + dropoutMode.spelling(),
                inputP > 0f ? String.format(Locale.ROOT, ", input_p=%s, input_seed=%d", inputP, inputDropoutSeed)
                        : "",
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
