package dev.fuse4j.nn;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Layers applied in order. {@link #train()} and {@link #eval()} switch dropout on and off for every layer. Build
 * one with {@link #builder}: every layer's initialisation and dropout seeds derive from one model seed, so a run
 * is reproducible from it.
 */
public final class Sequential implements AutoCloseable {

    private final Backend backend;
    private final List<Layer> layers;
    private boolean training = true;
    private boolean closed;

    public Sequential(Backend backend, List<? extends Layer> layers) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("a model needs at least one layer");
        }
        for (int i = 1; i < layers.size(); i++) {
            Layer a = layers.get(i - 1);
            Layer b = layers.get(i);
            if (a.outFeatures() != b.inFeatures()) {
                throw new IllegalArgumentException("layer " + (i - 1) + " (" + a.describe() + ") gives "
                        + a.outFeatures() + " features but layer " + i + " (" + b.describe() + ") takes "
                        + b.inFeatures());
            }
        }
        this.backend = backend;
        this.layers = List.copyOf(layers);
        setTraining(true);
    }

    /** Starts a model on {@code backend} whose input has {@code inFeatures} columns. */
    public static Builder builder(Backend backend, int inFeatures, long seed) {
        return new Builder(backend, inFeatures, seed);
    }

    public Backend backend() {
        return backend;
    }

    public List<Layer> layers() {
        return layers;
    }

    public int inFeatures() {
        return layers.get(0).inFeatures();
    }

    public int outFeatures() {
        return layers.get(layers.size() - 1).outFeatures();
    }

    public Sequential train() {
        setTraining(true);
        return this;
    }

    public Sequential eval() {
        setTraining(false);
        return this;
    }

    public boolean isTraining() {
        return training;
    }

    /** Whether {@link #close()} has released the model's tensors. */
    public boolean isClosed() {
        return closed;
    }

    private void setTraining(boolean on) {
        training = on;
        for (Layer l : layers) {
            l.setTraining(on);
        }
    }

    /**
     * The model's output for {@code x [n, inFeatures]}. It belongs to the model and stays valid until the next
     * forward pass; {@code x} must stay open until {@link #backward} has run.
     */
    public Tensor forward(Tensor x) {
        return forward(x, 0);
    }

    /**
     * As {@link #forward(Tensor)} when {@code x} holds rows {@code [rowBase, rowBase + n)} of a larger batch, as
     * one of N workers that each compute a slice of it: every layer's dropout draws the mask those rows have in the
     * whole batch (element base {@code rowBase · out} of that layer), so the slices' outputs, put one after
     * another, are the whole batch's output bit for bit. Like every training forward pass it advances each layer's
     * dropout offset by one, so the slices of one step run on replicas of the model at the same offsets (one per
     * worker), not one after another on one model. Replicas are built with the same model seed, which fixes every
     * layer's dropout key ({@link #loadParameters} copies values only). With the loss from
     * {@link Backend#softmaxCrossEntropy(Tensor, Tensor, int)} over the whole batch's size, the slices' gradients
     * ({@link #exportGradients()}) sum to the whole batch's.
     *
     * @param rowBase the index, in the whole batch, of the first row of {@code x}; {@code >= 0}
     */
    public Tensor forward(Tensor x, long rowBase) {
        checkOpen();
        if (x.shape().length != 2 || x.shape()[1] != inFeatures()) {
            throw new IllegalArgumentException("model input must be [n, " + inFeatures() + "] but is "
                    + java.util.Arrays.toString(x.shape()));
        }
        if (rowBase < 0) {
            throw new IllegalArgumentException("row base must be >= 0 but is " + rowBase);
        }
        Tensor h = x;
        for (Layer l : layers) {
            h = l.forward(h, rowBase);
        }
        return h;
    }

    /**
     * MC dropout: {@code samples} stochastic forward passes of {@code x [n, inFeatures]} with every layer's dropout
     * on (whatever {@link #train()} or {@link #eval()} says), and the mean and per-class variance of the softmax of
     * the outputs. The masks of pass {@code t} are keyed by each layer's dropout key and {@code seed}
     * ({@link Dense#forwardSample}), so the same seed gives the same result bit for bit, and the layers' training
     * offsets are left as they were. Like {@link #forward}, it replaces the activations kept for backward.
     */
    public PredictiveUncertainty predictWithUncertainty(Tensor x, int samples, long seed) {
        return predictWithUncertainty(x, samples, seed, 0);
    }

    /**
     * As {@link #predictWithUncertainty(Tensor, int, long)} for rows {@code [rowBase, rowBase + n)} of a larger set,
     * which draw the masks those rows have in the whole set.
     */
    public PredictiveUncertainty predictWithUncertainty(Tensor x, int samples, long seed, long rowBase) {
        checkOpen();
        if (samples < 1) {
            throw new IllegalArgumentException("MC dropout needs at least 1 sample but was asked for " + samples);
        }
        if (x.shape().length != 2 || x.shape()[1] != inFeatures()) {
            throw new IllegalArgumentException("model input must be [n, " + inFeatures() + "] but is "
                    + java.util.Arrays.toString(x.shape()));
        }
        int n = x.shape()[0], classes = outFeatures();
        double[] mean = new double[n * classes];
        double[] m2 = new double[n * classes];
        double[] p = new double[classes];
        for (int t = 0; t < samples; t++) {
            Tensor h = x;
            for (Layer l : layers) {
                h = l instanceof Dense d ? d.forwardSample(h, rowBase, seed, t) : l.forward(h, rowBase);
            }
            float[] logits = h.toArray();
            for (int i = 0; i < n; i++) {
                softmax(logits, i * classes, p);
                // Welford's update: the mean and the sum of squared deviations, one pass at a time.
                for (int c = 0; c < classes; c++) {
                    int e = i * classes + c;
                    double delta = p[c] - mean[e];
                    mean[e] += delta / (t + 1);
                    m2[e] += delta * (p[c] - mean[e]);
                }
            }
        }
        float[] meanOut = new float[mean.length];
        float[] variance = new float[mean.length];
        for (int e = 0; e < mean.length; e++) {
            meanOut[e] = (float) mean[e];
            variance[e] = (float) (m2[e] / samples);
        }
        return new PredictiveUncertainty(n, classes, samples, meanOut, variance);
    }

    /** The softmax of {@code p.length} logits from {@code from}, in double, into {@code p}. */
    private static void softmax(float[] logits, int from, double[] p) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < p.length; c++) {
            max = Math.max(max, logits[from + c]);
        }
        double sum = 0;
        for (int c = 0; c < p.length; c++) {
            p[c] = Math.exp(logits[from + c] - max);
            sum += p[c];
        }
        for (int c = 0; c < p.length; c++) {
            p[c] /= sum;
        }
    }

    /**
     * Backward of the last forward pass from the gradient of the loss with respect to the output. The first layer
     * skips its input gradient: the model's input is data, and nobody reads its gradient.
     */
    public void backward(Tensor dOutput) {
        checkOpen();
        Tensor g = dOutput;
        try {
            for (int i = layers.size() - 1; i >= 0; i--) {
                Tensor dx = layers.get(i).backward(g, i > 0);
                if (g != dOutput) {
                    g.close();
                }
                g = dx;
            }
        } finally {
            // The gradient in flight, when a failing layer could not take it further.
            if (g != null && g != dOutput) {
                g.close();
            }
        }
    }

    /**
     * All parameters, in layer order: {@code layer0.weight, layer0.bias, layer1.weight, ...}; a layer with batch norm
     * adds {@code gamma} and {@code beta} after its bias.
     */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>();
        for (Layer l : layers) {
            ps.addAll(l.parameters());
        }
        return Collections.unmodifiableList(ps);
    }

    public long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) {
            n += p.value().size();
        }
        return n;
    }

    /**
     * Where each parameter lies in the flat arrays of {@link #exportParameters()} and {@link #exportGradients()}:
     * in the order of {@link #parameters()} ({@code layer0.weight, layer0.bias, layer1.weight, ...}), one after
     * another without gaps, each row-major in its own shape ({@code weight [out, in]}, {@code bias [out]}, and
     * after them a PReLU layer's slopes {@code [out]}, {@code layer0_act.weight}).
     */
    public List<ParameterSlot> parameterLayout() {
        flatLength();
        List<ParameterSlot> slots = new ArrayList<>();
        int offset = 0;
        for (Parameter p : parameters()) {
            slots.add(new ParameterSlot(p.name(), p.shape(), offset));
            offset += (int) p.value().size();
        }
        return Collections.unmodifiableList(slots);
    }

    /** Every parameter's value copied to the host in one array, laid out as {@link #parameterLayout()} says. */
    public float[] exportParameters() {
        checkOpen();
        return gather(parameters().stream().map(Parameter::value).toList());
    }

    /**
     * Replaces every parameter's value with its part of {@code values}, laid out as {@link #parameterLayout()}
     * says (the output of {@link #exportParameters()}, possibly of a model on another backend). The gradients of
     * the last backward pass no longer apply and are dropped.
     *
     * @throws IllegalArgumentException when {@code values} does not hold exactly {@link #parameterCount()} values;
     *                                  nothing is loaded then
     */
    public void loadParameters(float[] values) {
        scatter(values, "values", Parameter::load);
    }

    /**
     * The gradients of the last backward pass copied to the host in one array, laid out as
     * {@link #parameterLayout()} says: what a worker hands on to be summed with the other slices' gradients.
     *
     * @throws IllegalStateException when some parameter has no gradient (no backward pass since the model was
     *                               built or its parameters were loaded)
     */
    public float[] exportGradients() {
        checkOpen();
        List<Tensor> grads = new ArrayList<>();
        for (Parameter p : parameters()) {
            if (p.grad() == null) {
                throw new IllegalStateException("parameter " + p.name() + " has no gradient: run backward after "
                        + "the model was built or its parameters were loaded");
            }
            grads.add(p.grad());
        }
        return gather(grads);
    }

    /**
     * Replaces every parameter's gradient with its part of {@code gradients}, laid out as {@link #parameterLayout()}
     * says: how a driver hands the slices' summed gradients ({@link #exportGradients()} of each) to its own model,
     * whose {@link Optimizer} then steps as after a backward pass of its own.
     *
     * @throws IllegalArgumentException when {@code gradients} does not hold exactly {@link #parameterCount()}
     *                                  values; nothing is loaded then
     */
    public void loadGradients(float[] gradients) {
        scatter(gradients, "gradient values", (p, g) -> p.setGrad(p.value().backend().tensor(g, p.shape())));
    }

    /**
     * Hands every parameter its part of {@code flat}, laid out as {@link #parameterLayout()} says, once the length
     * is checked, so that a refused array changes nothing.
     */
    private void scatter(float[] flat, String what, java.util.function.BiConsumer<Parameter, float[]> into) {
        checkOpen();
        int total = flatLength();
        if (flat == null || flat.length != total) {
            throw new IllegalArgumentException("the model holds " + total + " parameter values but "
                    + (flat == null ? "null" : flat.length + " " + what) + " were given (layout: "
                    + parameterLayout() + ")");
        }
        int offset = 0;
        for (Parameter p : parameters()) {
            int size = (int) p.value().size();
            into.accept(p, java.util.Arrays.copyOfRange(flat, offset, offset + size));
            offset += size;
        }
    }

    /** The values of {@code tensors}, one after another, in one array of {@link #flatLength()}. */
    private float[] gather(List<Tensor> tensors) {
        float[] flat = new float[flatLength()];
        int offset = 0;
        for (Tensor t : tensors) {
            int size = (int) t.size();
            t.copyTo(java.nio.FloatBuffer.wrap(flat, offset, size)); // straight into its place, no array between
            offset += size;
        }
        return flat;
    }

    /** {@link #parameterCount()} as the length of one Java array, refused when it does not fit. */
    private int flatLength() {
        long n = parameterCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("the model holds " + n + " parameter values, more than one Java array "
                    + "can hold");
        }
        return (int) n;
    }

    /** The architecture, one layer per line, which checkpoints compare before restoring anything. */
    public String describe() {
        return layers.stream().map(Layer::describe).collect(Collectors.joining("\n"));
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the model was closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        for (Layer l : layers) {
            try {
                l.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "Sequential[" + describe().replace("\n", ", ") + "]";
    }

    /** Adds layers one after another; layer {@code i} is named {@code layer<i>} and seeded from the model seed. */
    public static final class Builder {
        private final Backend backend;
        private final long seed;
        private final List<Dense> layers = new ArrayList<>();
        private int features;
        private float inputP;

        private Builder(Backend backend, int inFeatures, long seed) {
            if (inFeatures <= 0) {
                throw new IllegalArgumentException("model input features must be > 0 but is " + inFeatures);
            }
            this.backend = backend;
            this.features = inFeatures;
            this.seed = seed;
        }

        /** A hidden layer: the fused op with {@code activation} and dropout {@code p} in training. */
        public Builder dense(int out, Activation activation, float p) {
            return add(out, activation, p, false, false, DropoutMode.PLAIN);
        }

        /**
         * A hidden layer with batch normalisation before its activation: {@code dropout(act(bn(x·Wᵀ + b)))} in
         * training, the fused op on the folded weights in evaluation (see {@link BatchNorm}).
         */
        public Builder denseBatchNorm(int out, Activation activation, float p) {
            return add(out, activation, p, false, true, DropoutMode.PLAIN);
        }

        /** {@link #denseBatchNorm(int, Activation, float)} whose dropout is channel or variational dropout. */
        public Builder denseBatchNorm(int out, Activation activation, float p, DropoutMode mode) {
            return add(out, activation, p, false, true, mode);
        }

        /**
         * Dropout of the model's input features in training (the notes suggest 0.1 to 0.2), applied by the first
         * layer; call it before the first {@code dense}. Its masks are keyed by {@code derive(seed, -1)}, an index no
         * layer's initialisation ({@code 2i}) or dropout ({@code 2i + 1}) key uses, so they never share a stream with
         * an output mask.
         *
         * @param p probability of dropping an input feature, in [0, 1)
         */
        public Builder inputDropout(float p) {
            if (!layers.isEmpty()) {
                throw new IllegalStateException("input dropout belongs to the first layer: call inputDropout before "
                        + "the first dense, not after " + layers.size() + " layers");
            }
            if (!(p >= 0f && p < 1f)) {
                throw new IllegalArgumentException("input dropout p must be in [0, 1) but is " + p);
            }
            inputP = p;
            return this;
        }

        /** A hidden layer whose dropout is channel or variational dropout ({@link DropoutMode}). */
        public Builder dense(int out, Activation activation, float p, DropoutMode mode) {
            return add(out, activation, p, false, false, mode);
        }

        private Builder add(int out, Activation activation, float p, boolean dropConnect, boolean batchNorm,
                            DropoutMode mode) {
            int i = layers.size();
            try {
                layers.add(new Dense(backend, "layer" + i, features, out, activation, p, dropConnect,
                        derive(seed, 2 * i), derive(seed, 2 * i + 1), batchNorm, mode, i == 0 ? inputP : 0f,
                        i == 0 ? derive(seed, -1) : 0L));
            } catch (RuntimeException e) {
                layers.forEach(Dense::close);
                throw e;
            }
            features = out;
            return this;
        }

        /**
         * A hidden layer with DropConnect: the fused op with {@code activation}, and in training each weight dropped
         * with probability {@code p} (one mask per forward pass) instead of each output.
         */
        public Builder denseDropConnect(int out, Activation activation, float p) {
            return add(out, activation, p, true, false, DropoutMode.PLAIN);
        }

        /** A plain linear layer: no activation, no dropout (the usual output layer before a softmax). */
        public Builder linear(int out) {
            return dense(out, Activation.identity(), 0f);
        }

        public Sequential build() {
            return new Sequential(backend, layers);
        }

        /** SplitMix64's finaliser over seed and index: distinct, well-spread seeds per layer and purpose. */
        static long derive(long seed, long index) {
            long z = seed + (index + 1) * 0x9E3779B97F4A7C15L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }
    }
}
