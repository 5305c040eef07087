package dev.fuse4j.spark;

import dev.fuse4j.Activation;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A small classification task the tests train on: four classes of 12 features, each class a cloud of points
 * around its own centre, so the loss of a working run falls within a few epochs.
 */
final class SyntheticTask {
    static final int FEATURES = 12;
    static final int CLASSES = 4;

    final float[] x;
    final float[] labels;

    SyntheticTask(int n, long seed) {
        Random r = new Random(seed);
        float[][] centres = new float[CLASSES][FEATURES];
        for (float[] c : centres) {
            for (int j = 0; j < FEATURES; j++) {
                c[j] = (float) r.nextGaussian();
            }
        }
        x = new float[n * FEATURES];
        labels = new float[n];
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(CLASSES);
            labels[i] = c;
            for (int j = 0; j < FEATURES; j++) {
                x[i * FEATURES + j] = centres[c][j] + 0.8f * (float) r.nextGaussian();
            }
        }
    }

    int size() {
        return labels.length;
    }

    float[] row(int i) {
        return java.util.Arrays.copyOfRange(x, i * FEATURES, (i + 1) * FEATURES);
    }

    List<Example> examples() {
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < size(); i++) {
            out.add(new Example(row(i), labels[i]));
        }
        return out;
    }

    /** Two hidden layers with dropout (ReLU and leaky ReLU), so masks matter in every step. */
    static ModelSpec model(long seed) {
        return ModelSpec.input(FEATURES, seed).dense(16, Activation.relu(), 0.3f)
                .dense(16, Activation.leakyRelu(0.1f), 0.2f).linear(CLASSES);
    }
}
