package dev.fuse4j.spark;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.nn.Sequential;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Sequential} written down so that it can travel to the executors: the input width, the model seed and
 * the layers. Every machine builds the same model from it (the seed fixes every layer's initial values and dropout
 * key), which is what lets slices of a batch run on replicas; two specs are equal exactly when they build the same
 * model, so a replica cached for one is never used for another.
 *
 * @param inFeatures the input's column count
 * @param seed       the model seed ({@link Sequential#builder})
 * @param layers     the layers in order
 */
public record ModelSpec(int inFeatures, long seed, List<LayerSpec> layers) implements Serializable {

    /**
     * One dense layer: the fused op with an activation and dropout.
     *
     * @param out        the layer's output width
     * @param activation the activation's kind
     * @param alpha      its slope ({@link Activation#alpha()})
     * @param p          dropout probability in training
     */
    public record LayerSpec(int out, Activation.Kind activation, float alpha, float p) implements Serializable {
        public LayerSpec {
            new Activation(activation, alpha); // validates kind and slope, naming what is wrong
            if (out <= 0) {
                throw new IllegalArgumentException("a layer's output width must be > 0 but is " + out);
            }
            if (!(p >= 0f && p <= 1f)) {
                throw new IllegalArgumentException("dropout p must be in [0, 1] but is " + p);
            }
        }
    }

    public ModelSpec {
        if (inFeatures <= 0) {
            throw new IllegalArgumentException("model input features must be > 0 but is " + inFeatures);
        }
        layers = List.copyOf(layers);
    }

    /** A model with no layers yet, whose input has {@code inFeatures} columns. */
    public static ModelSpec input(int inFeatures, long seed) {
        return new ModelSpec(inFeatures, seed, List.of());
    }

    /** This spec with a hidden layer added: the fused op with {@code activation} and dropout {@code p}. */
    public ModelSpec dense(int out, Activation activation, float p) {
        List<LayerSpec> more = new ArrayList<>(layers);
        more.add(new LayerSpec(out, activation.kind(), activation.alpha(), p));
        return new ModelSpec(inFeatures, seed, more);
    }

    /** This spec with a plain linear layer added (no activation, no dropout), as {@link Sequential.Builder#linear}. */
    public ModelSpec linear(int out) {
        return dense(out, Activation.identity(), 0f);
    }

    /** The output width (the class count of a classifier). */
    public int outFeatures() {
        if (layers.isEmpty()) {
            throw new IllegalStateException("the model spec has no layers");
        }
        return layers.get(layers.size() - 1).out();
    }

    /** The model on {@code backend}, in training mode, with the initial values its seed gives. */
    public Sequential build(Backend backend) {
        if (layers.isEmpty()) {
            throw new IllegalStateException("the model spec has no layers: add some with dense() or linear()");
        }
        Sequential.Builder b = Sequential.builder(backend, inFeatures, seed);
        for (LayerSpec l : layers) {
            b.dense(l.out(), new Activation(l.activation(), l.alpha()), l.p());
        }
        return b.build();
    }
}
