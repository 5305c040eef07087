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
        checkOpen();
        if (x.shape().length != 2 || x.shape()[1] != inFeatures()) {
            throw new IllegalArgumentException("model input must be [n, " + inFeatures() + "] but is "
                    + java.util.Arrays.toString(x.shape()));
        }
        Tensor h = x;
        for (Layer l : layers) {
            h = l.forward(h);
        }
        return h;
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

    /** All parameters, in layer order: {@code layer0.weight, layer0.bias, layer1.weight, ...}. */
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
            int i = layers.size();
            try {
                layers.add(new Dense(backend, "layer" + i, features, out, activation, p, derive(seed, 2 * i),
                        derive(seed, 2 * i + 1)));
            } catch (RuntimeException e) {
                layers.forEach(Dense::close);
                throw e;
            }
            features = out;
            return this;
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
