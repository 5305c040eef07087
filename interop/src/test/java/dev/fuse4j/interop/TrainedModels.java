package dev.fuse4j.interop;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.Tensor;
import dev.fuse4j.nn.Dense;
import dev.fuse4j.nn.Parameter;
import dev.fuse4j.nn.Sequential;
import dev.fuse4j.nn.Sgd;
import dev.fuse4j.nn.Training;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Small models trained for a few epochs with dropout on a synthetic task, so that every bias has moved off 0. */
final class TrainedModels {

    static final int IN = 20;
    static final int OUT = 5;
    private static final int EXAMPLES = 512;
    private static final int EPOCHS = 3;
    private static final long SEED = 2024;

    private TrainedModels() {
    }

    /** {@code IN → 32 → 24 → OUT}: two hidden layers with {@code act} and dropout 0.25, a linear output layer. */
    static Sequential twoHidden(Backend be, Activation act) {
        return train(Sequential.builder(be, IN, SEED).dense(32, act, 0.25f).dense(24, act, 0.25f).linear(OUT)
                .build());
    }

    /**
     * One hidden layer of every activation, in a chain: ReLU, leaky ReLU, GELU, ELU, PReLU, linear with dropout,
     * linear.
     */
    static Sequential everyActivation(Backend be) {
        return train(Sequential.builder(be, IN, SEED)
                .dense(16, Activation.relu(), 0.2f)
                .dense(16, Activation.leakyRelu(0.2f), 0.2f)
                .dense(16, Activation.gelu(), 0.2f)
                .dense(16, Activation.elu(0.5f), 0.2f)
                .dense(16, Activation.prelu(), 0.2f)
                .dense(16, Activation.identity(), 0.1f)
                .linear(OUT).build());
    }

    /**
     * {@code IN → 32 → 24 → OUT} with batch normalisation in both hidden layers (ReLU then GELU, dropout 0.25): its
     * evaluation form folds the running statistics into the weights.
     */
    static Sequential batchNorm(Backend be) {
        return train(Sequential.builder(be, IN, SEED).denseBatchNorm(32, Activation.relu(), 0.25f)
                .denseBatchNorm(24, Activation.gelu(), 0.25f).linear(OUT).build());
    }

    /** Rows of standard normal values scaled by 1.5, so that pre-activations land on both sides of 0. */
    static float[] inputs(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * IN];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (1.5 * r.nextGaussian());
        }
        return x;
    }

    /** The model's output for {@code x} in evaluation mode, on its own backend. */
    static float[] evalOutput(Sequential model, float[] x, int n) {
        model.eval();
        try (Tensor xt = model.backend().tensor(x, n, model.inFeatures())) {
            return model.forward(xt).toArray();
        }
    }

    private static Sequential train(Sequential model) {
        try (Sgd opt = new Sgd(model.parameters(), 0.05f, 0.9f, 0f)) {
            // Labels: the argmax of a fixed random linear map of the input, a task the model can learn.
            float[] x = inputs(EXAMPLES, SEED + 1);
            float[] labels = new float[EXAMPLES];
            Random r = new Random(SEED + 2);
            double[] map = new double[IN * OUT];
            for (int i = 0; i < map.length; i++) {
                map[i] = r.nextGaussian();
            }
            for (int i = 0; i < EXAMPLES; i++) {
                int best = 0;
                double bestScore = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < OUT; c++) {
                    double s = 0;
                    for (int k = 0; k < IN; k++) {
                        s += map[c * IN + k] * x[i * IN + k];
                    }
                    if (s > bestScore) {
                        bestScore = s;
                        best = c;
                    }
                }
                labels[i] = best;
            }
            for (int epoch = 0; epoch < EPOCHS; epoch++) {
                Training.trainEpoch(model, opt, x, labels, Training.shuffledOrder(EXAMPLES, SEED, epoch), 32, null);
            }
            for (Parameter p : model.parameters()) {
                // Batch norm takes the mean out, so a bias before it gets no gradient; its folded bias is checked.
                boolean beforeBatchNorm = model.layers().stream().anyMatch(l -> l instanceof Dense d
                        && d.batchNorm() != null && d.bias() == p);
                if (p.name().endsWith(".bias") && !beforeBatchNorm) {
                    float[] b = p.value().toArray();
                    boolean moved = false;
                    for (float v : b) {
                        moved |= v != 0f;
                    }
                    assertTrue(moved, p.name() + " is still all zeros after training: the export of biases "
                            + "would go untested");
                }
            }
        } catch (RuntimeException | Error e) {
            model.close();
            throw e;
        }
        return model;
    }
}
