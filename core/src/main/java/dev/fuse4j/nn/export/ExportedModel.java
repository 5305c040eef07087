package dev.fuse4j.nn.export;

import dev.fuse4j.Activation;
import dev.fuse4j.nn.Dense;
import dev.fuse4j.nn.Layer;
import dev.fuse4j.nn.Sequential;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A host copy of a model's layers, as every export format reads them: the model is checked and its weights are
 * copied off the device once, before any file is written.
 *
 * @param architecture the model's own description ({@link Sequential#describe()})
 */
record ExportedModel(String architecture, List<ExportedModel.DenseLayer> layers) {

    /**
     * One {@link Dense} layer in inference form: {@code y = act(x·Wᵀ + b)}; dropout is kept only as a note, since
     * it is the identity at inference.
     *
     * @param name   the prefix of the layer's parameter names ({@code layer0} for {@code layer0.weight})
     * @param weight row-major {@code [out, in]}, the nn.Linear layout
     * @param slope  PReLU's slopes {@code [out]}, or null for every other activation
     */
    record DenseLayer(String name, int in, int out, Activation activation, float dropoutP, float[] weight,
                      float[] bias, float[] slope) {

        /** PReLU's slope tensor name: the weight of the PyTorch module after the linear one. */
        String slopeName() {
            return name + Dense.SLOPE_SUFFIX;
        }

        String weightName() {
            return name + WEIGHT_SUFFIX;
        }

        String biasName() {
            return name + BIAS_SUFFIX;
        }
    }

    private static final String WEIGHT_SUFFIX = ".weight";
    private static final String BIAS_SUFFIX = ".bias";

    /**
     * Checks that {@code model} is open and made of {@link Dense} layers with distinct names, then copies its
     * weights to the host.
     */
    static ExportedModel of(Sequential model) {
        Objects.requireNonNull(model, "model");
        if (model.isClosed()) {
            throw new IllegalStateException("cannot export a closed model: close() released its weights");
        }
        List<DenseLayer> layers = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < model.layers().size(); i++) {
            Layer l = model.layers().get(i);
            if (!(l instanceof Dense d)) {
                throw new IllegalArgumentException("layer " + i + " (" + l.describe() + ") is a "
                        + l.getClass().getName() + "; only Dense layers can be exported");
            }
            String name = layerName(d, i);
            Integer before = seen.putIfAbsent(name, i);
            if (before != null) {
                throw new IllegalArgumentException("layers " + before + " and " + i + " are both named '" + name
                        + "': exported weights are found by name, so the names must differ");
            }
            float[] w = d.weight().value().toArray();
            float[] b = d.bias().value().toArray();
            if (d.batchNorm() != null) { // evaluation form: the running statistics folded into W and b
                float[][] folded = d.batchNorm().fold(w, b);
                w = folded[0];
                b = folded[1];
            }
            layers.add(new DenseLayer(name, d.inFeatures(), d.outFeatures(), d.activation(), d.dropoutP(), w, b,
                    d.slope() == null ? null : d.slope().value().toArray()));
        }
        return new ExportedModel(model.describe(), List.copyOf(layers));
    }

    int inFeatures() {
        return layers.get(0).in();
    }

    int outFeatures() {
        return layers.get(layers.size() - 1).out();
    }

    /** The name the layer gave its parameters: {@code layer0} for {@code layer0.weight} and {@code layer0.bias}. */
    private static String layerName(Dense d, int index) {
        String w = d.weight().name();
        String name = w.substring(0, w.length() - WEIGHT_SUFFIX.length());
        if (name.isEmpty()) {
            throw new IllegalArgumentException("layer " + index + " (" + d.describe() + ") has no name: its "
                    + "parameters are called " + w + " and " + d.bias().name());
        }
        return name;
    }
}
