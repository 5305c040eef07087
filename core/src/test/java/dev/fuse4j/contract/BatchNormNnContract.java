package dev.fuse4j.contract;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.Dropout;
import dev.fuse4j.Tensor;
import dev.fuse4j.nn.Adam;
import dev.fuse4j.nn.BatchNorm;
import dev.fuse4j.nn.Checkpoint;
import dev.fuse4j.nn.Dense;
import dev.fuse4j.nn.DropoutMode;
import dev.fuse4j.nn.Layer;
import dev.fuse4j.nn.Optimizer;
import dev.fuse4j.nn.ParameterSlot;
import dev.fuse4j.nn.PredictiveUncertainty;
import dev.fuse4j.nn.Sequential;
import dev.fuse4j.nn.Sgd;
import dev.fuse4j.nn.Training;
import dev.fuse4j.reference.BatchNormReference;
import dev.fuse4j.reference.Reference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batch normalisation in {@code dev.fuse4j.nn} on every backend ({@link NnContract} runs these cases): a model's
 * gradients, gamma and beta among them, against finite differences; the running statistics against PyTorch's
 * formula step after step; evaluation as the fused op on the folded weights; the parameters in the flat layout, the
 * optimizers and checkpoints; learning; clear refusals.
 */
interface BatchNormNnContract {

    /** The backend the suite opened for this test. */
    Backend backendUnderTest();

    /** Two batch-norm layers (the second's dx reaches the first) and a linear output, under dropout. */
    @Test
    default void batchNormModelGradientsMatchFiniteDifferences() {
        Backend be = backendUnderTest();
        int n = 6, in = 5, classes = 3;
        float[] x = NnContract.randoms(new Random(41), n * in);
        float[] labels = {0, 1, 2, 2, 1, 0};
        try (Sequential m = Sequential.builder(be, in, 5).denseBatchNorm(7, Activation.gelu(), 0.3f)
                .denseBatchNorm(6, Activation.identity(), 0.3f).linear(classes).build()) {
            NnContract.assertModelGradientsMatchFiniteDifferences(m, x, labels);
        }
    }

    /**
     * Every option of the merged layer in one model, gradients against finite differences: input dropout, batch norm
     * with channel dropout, PReLU with variational dropout, DropConnect, and the linear output.
     */
    @Test
    default void modelGradientsWithEveryDropoutOptionMatchFiniteDifferences() {
        Backend be = backendUnderTest();
        int n = 6, in = 5;
        // These inputs keep every PReLU pre-activation at least 0.07 from its kink, beyond what a probe of ±H moves.
        float[] x = NnContract.randoms(new Random(48), n * in);
        float[] labels = {0, 1, 2, 2, 1, 0};
        try (Sequential m = Sequential.builder(be, in, 9).inputDropout(0.3f)
                .denseBatchNorm(8, Activation.gelu(), 0.3f, DropoutMode.channels(2))
                .dense(6, Activation.prelu(), 0.3f, DropoutMode.variational(2))
                .denseDropConnect(6, Activation.gelu(), 0.3f).linear(3).build()) {
            NnContract.assertModelGradientsMatchFiniteDifferences(m, x, labels);
        }
    }

    /**
     * MC dropout through batch norm and DropConnect: the passes normalise by the running statistics and leave them,
     * and the layers' offsets, as they were; with dropout on the passes differ, so the variance is positive.
     */
    @Test
    default void mcDropoutThroughBatchNormAndDropConnectLeavesTheModelAsItWas() {
        Backend be = backendUnderTest();
        int n = 7, in = 6;
        float[] x = NnContract.randoms(new Random(49), n * in);
        try (Sequential m = Sequential.builder(be, in, 10).denseBatchNorm(12, Activation.relu(), 0.4f,
                        DropoutMode.channels(3)).denseDropConnect(8, Activation.relu(), 0.4f).linear(3).build();
             Tensor xt = be.tensor(x, n, in)) {
            m.forward(xt); // one training pass moves the running statistics away from their start
            m.eval();
            float[] stats = m.layers().get(0).runningStatistics();
            long[] offsets = m.layers().stream().mapToLong(Layer::dropoutOffset).toArray();
            PredictiveUncertainty u = m.predictWithUncertainty(xt, 5, 3);
            assertArrayEquals(stats, m.layers().get(0).runningStatistics(), "MC dropout moved the running statistics");
            assertArrayEquals(offsets, m.layers().stream().mapToLong(Layer::dropoutOffset).toArray());
            double variance = 0;
            for (float v : u.variance()) {
                variance += v;
            }
            assertTrue(variance > 0, "the MC passes through batch norm and DropConnect all agreed");
            assertEquals(u.mean().length, n * 3);
        }
    }

    /**
     * After each training step the running mean and variance are PyTorch's {@code (1 − m)·r + m·mean} and
     * {@code (1 − m)·v + m·var·n/(n − 1)} of that batch's {@code z}, computed here in float64 from the weights the
     * step ran with.
     */
    @Test
    default void batchNormRunningStatisticsFollowPyTorchsFormulaStepAfterStep() {
        Backend be = backendUnderTest();
        int in = 6, out = 5, n = 9;
        Random r = new Random(43);
        try (Sequential m = Sequential.builder(be, in, 7).denseBatchNorm(out, Activation.relu(), 0.2f).linear(3)
                .build();
             Optimizer o = new Sgd(m.parameters(), 0.1f, 0.9f, 0f)) {
            Dense layer = (Dense) m.layers().get(0);
            BatchNorm bn = layer.batchNorm();
            double[] mean = new double[out], var = new double[out];
            Arrays.fill(var, 1);
            assertArrayEquals(new float[out], bn.runningMean(), "running means start at 0");
            assertArrayEquals(ones(out), bn.runningVar(), "running variances start at 1");
            for (int step = 0; step < 4; step++) {
                float[] x = NnContract.randoms(r, n * in);
                for (int i = 0; i < x.length; i++) {
                    x[i] = 3 * x[i] + 2; // features of mean 2 and spread 3
                }
                float[] w = layer.weight().value().toArray(), b = layer.bias().value().toArray();
                double[][] stats = statistics(x, w, b, n, in, out);
                BatchNormReference.updateRunning(mean, var, stats[0], stats[1], n, BatchNorm.DEFAULT_MOMENTUM);
                try (Tensor xt = be.tensor(x, n, in); Tensor dy = be.tensor(NnContract.randoms(r, n * 3), n, 3)) {
                    m.forward(xt);
                    m.backward(dy);
                }
                o.step();
                float[] gotMean = bn.runningMean(), gotVar = bn.runningVar();
                for (int j = 0; j < out; j++) {
                    double tolMean = 1e-5 * (1 + Math.abs(mean[j]) + Math.sqrt(var[j]));
                    assertEquals(mean[j], gotMean[j], tolMean, "running mean " + j + " after step " + step);
                    assertEquals(var[j], gotVar[j], 1e-5 * (1 + var[j]), "running variance " + j + " after step "
                            + step);
                }
            }
        }
    }

    /** Per feature of {@code z = x·Wᵀ + b}, in float64: the means and the biased variances. */
    private static double[][] statistics(float[] x, float[] w, float[] b, int n, int in, int out) {
        double[] z = Reference.preActivation(x, w, b, n, in, out);
        double[] mean = new double[out], var = new double[out];
        for (int e = 0; e < z.length; e++) {
            mean[e % out] += z[e] / n;
        }
        for (int e = 0; e < z.length; e++) {
            var[e % out] += (z[e] - mean[e % out]) * (z[e] - mean[e % out]) / n;
        }
        return new double[][] {mean, var};
    }

    /**
     * In evaluation a batch-norm layer is the fused op on {@code W' = W·gamma/σ}, {@code b' = (b − mean)·gamma/σ +
     * beta} (the float64 reference's fold, rounded to float32): the same bits as {@link Backend#linear} on those, and
     * within float32 rounding of normalising with the running statistics in float64.
     */
    @Test
    default void batchNormEvaluationIsTheFusedOpOnTheFoldedWeights() {
        Backend be = backendUnderTest();
        int in = 8, out = 6, n = 10;
        Random r = new Random(47);
        try (Sequential m = Sequential.builder(be, in, 3).denseBatchNorm(out, Activation.leakyRelu(0.1f), 0.3f)
                .linear(2).build();
             Optimizer o = new Adam(m.parameters(), 0.05f)) {
            Dense layer = (Dense) m.layers().get(0);
            for (int step = 0; step < 3; step++) { // gamma and beta move away from 1 and 0, the statistics from 0, 1
                try (Tensor xt = be.tensor(NnContract.randoms(r, n * in), n, in);
                     Tensor dy = be.tensor(NnContract.randoms(r, n * 2), n, 2)) {
                    m.forward(xt);
                    m.backward(dy);
                }
                o.step();
            }
            float[] w = layer.weight().value().toArray(), b = layer.bias().value().toArray();
            float[] gamma = layer.batchNorm().gamma().value().toArray();
            float[] beta = layer.batchNorm().beta().value().toArray();
            float[] rm = layer.batchNorm().runningMean(), rv = layer.batchNorm().runningVar();
            assertFalse(Arrays.equals(ones(out), gamma), "the steps moved gamma");
            double[][] folded = BatchNormReference.fold(w, b, gamma, beta, widen(rm), widen(rv),
                    layer.batchNorm().eps(), in, out);
            float[] x = NnContract.randoms(r, n * in);
            m.eval();
            try (Tensor xt = be.tensor(x, n, in); Tensor wf = be.tensor(narrow(folded[0]), out, in);
                 Tensor bf = be.tensor(narrow(folded[1]), out);
                 Tensor fused = be.linear(xt, wf, bf, Activation.leakyRelu(0.1f), Dropout.eval(), null)) {
                float[] y = layer.forward(xt).toArray();
                assertArrayEquals(fused.toArray(), y, "evaluation is the fused op on the folded weights");
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < out; j++) {
                        double z = b[j];
                        double mag = Math.abs(b[j]);
                        for (int k = 0; k < in; k++) {
                            z += (double) x[i * in + k] * w[j * in + k];
                            mag += Math.abs((double) x[i * in + k] * w[j * in + k]);
                        }
                        double k = gamma[j] / Math.sqrt(rv[j] + (double) layer.batchNorm().eps());
                        double u = (z - rm[j]) * k + beta[j];
                        double want = u > 0 ? u : 0.1 * u;
                        double tol = 1e-5 * ((mag + Math.abs(rm[j])) * Math.abs(k) + Math.abs(beta[j]));
                        assertEquals(want, y[i * out + j], tol, "eval output [" + i + "][" + j + "]");
                    }
                }
            }
        }
    }

    @Test
    default void batchNormParametersTrainAndCrossToTheHostInTheLayout() {
        Backend be = backendUnderTest();
        int n = 5, in = 4;
        try (Sequential m = Sequential.builder(be, in, 11).denseBatchNorm(6, Activation.relu(), 0f).linear(3)
                .build();
             Sequential copy = Sequential.builder(be, in, 11).denseBatchNorm(6, Activation.relu(), 0f).linear(3)
                     .build();
             Tensor xt = be.tensor(NnContract.randoms(new Random(53), n * in), n, in);
             Tensor dy = be.tensor(NnContract.randoms(new Random(59), n * 3), n, 3);
             Optimizer o = new Sgd(m.parameters(), 0.1f, 0f, 0f)) {
            List<String> names = m.parameterLayout().stream().map(ParameterSlot::name).toList();
            assertEquals(List.of("layer0.weight", "layer0.bias", "layer0.gamma", "layer0.beta", "layer1.weight",
                    "layer1.bias"), names);
            ParameterSlot gammaSlot = m.parameterLayout().get(2);
            assertArrayEquals(new int[] {6}, gammaSlot.shape());
            float[] flat = m.exportParameters();
            assertArrayEquals(ones(6), Arrays.copyOfRange(flat, gammaSlot.offset(), gammaSlot.offset() + 6),
                    "gamma starts at 1");
            m.forward(xt);
            m.backward(dy);
            float[] grads = m.exportGradients();
            float[] dgamma = Arrays.copyOfRange(grads, gammaSlot.offset(), gammaSlot.offset() + 6);
            assertFalse(Arrays.equals(new float[6], dgamma), "gamma has a gradient");
            o.step();
            float[] after = m.exportParameters();
            for (int j = 0; j < 6; j++) {
                assertEquals(1f - 0.1f * dgamma[j], after[gammaSlot.offset() + j], 1e-6f, "SGD stepped gamma " + j);
            }
            copy.loadParameters(after);
            copy.loadGradients(grads);
            assertArrayEquals(after, copy.exportParameters(), "parameters round trip");
            assertArrayEquals(grads, copy.exportGradients(), "gradients round trip");
        }
    }

    /** A run resumed from a checkpoint continues with the running statistics it saved, bit for bit. */
    @Test
    default void batchNormRunningStatisticsSurviveACheckpointBitForBit(@TempDir Path dir) throws IOException {
        Backend be = backendUnderTest();
        NnContract.Blobs data = new NnContract.Blobs(300, 61);
        long seed = 5;
        float[] straightParams;
        float[][] straightStats = new float[3][];
        try (Sequential m = batchNormModel(be, seed); Optimizer o = new Adam(m.parameters(), 3e-3f)) {
            for (int e = 0; e < 3; e++) {
                Training.trainEpoch(m, o, data.x, data.labels, Training.shuffledOrder(data.size(), seed, e), 32, null);
            }
            straightParams = m.exportParameters();
            for (int l = 0; l < 3; l++) {
                straightStats[l] = m.layers().get(l).runningStatistics();
            }
        }
        Path ck = dir.resolve("bn.ckpt");
        try (Sequential m = batchNormModel(be, seed); Optimizer o = new Adam(m.parameters(), 3e-3f)) {
            for (int e = 0; e < 2; e++) {
                Training.trainEpoch(m, o, data.x, data.labels, Training.shuffledOrder(data.size(), seed, e), 32, null);
            }
            Checkpoint.save(ck, m, o, 2);
        }
        try (Sequential m = batchNormModel(be, seed); Optimizer o = new Adam(m.parameters(), 3e-3f)) {
            assertEquals(2, Checkpoint.restore(ck, m, o));
            assertFalse(Arrays.equals(ones(24), Arrays.copyOfRange(m.layers().get(0).runningStatistics(), 24, 48)),
                    "the restored running variances are the trained ones");
            Training.trainEpoch(m, o, data.x, data.labels, Training.shuffledOrder(data.size(), seed, 2), 32, null);
            assertArrayEquals(straightParams, m.exportParameters(), "parameters after 2 + resume + 1 epochs");
            for (int l = 0; l < 3; l++) {
                assertArrayEquals(straightStats[l], m.layers().get(l).runningStatistics(),
                        "running statistics of layer " + l + " after 2 + resume + 1 epochs");
            }
        }
        try (Sequential plain = Sequential.builder(be, NnContract.Blobs.FEATURES, seed)
                .dense(24, Activation.relu(), 0.3f).dense(16, Activation.gelu(), 0.2f)
                .linear(NnContract.Blobs.CLASSES).build();
             Optimizer o = new Adam(plain.parameters(), 3e-3f)) {
            Checkpoint.CheckpointException e = assertThrows(Checkpoint.CheckpointException.class,
                    () -> Checkpoint.restore(ck, plain, o));
            assertTrue(e.getMessage().contains("batch_norm"), e.getMessage());
        }
    }

    private static Sequential batchNormModel(Backend be, long seed) {
        return Sequential.builder(be, NnContract.Blobs.FEATURES, seed).denseBatchNorm(24, Activation.relu(), 0.3f)
                .denseBatchNorm(16, Activation.gelu(), 0.2f).linear(NnContract.Blobs.CLASSES).build();
    }

    @Test
    default void batchNormLearnsASyntheticTaskToNinetyPercent() {
        Backend be = backendUnderTest();
        NnContract.Blobs train = new NnContract.Blobs(2000, 31);
        NnContract.Blobs val = train.sameCentres(500, 32);
        try (Sequential m = batchNormModel(be, 1); Optimizer o = new Adam(m.parameters(), 3e-3f)) {
            Training.EpochResult r = null;
            for (int e = 0; e < 5; e++) {
                Training.trainEpoch(m, o, train.x, train.labels, Training.shuffledOrder(train.size(), 1, e), 64,
                        null);
                r = Training.evaluate(m, val.x, val.labels, 128);
            }
            assertTrue(r.accuracy() >= 0.9, "validation accuracy " + r.accuracy() + " after 5 epochs");
        }
    }

    @Test
    default void batchNormMisuseIsRefusedClearly() {
        Backend be = backendUnderTest();
        try (Sequential m = Sequential.builder(be, 3, 1).denseBatchNorm(4, Activation.relu(), 0f).linear(2).build();
             Tensor one = be.tensor(new float[] {1, 2, 3}, 1, 3);
             Tensor two = be.tensor(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
             Tensor dy = be.tensor(new float[4], 2, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(one));
            assertTrue(e.getMessage().contains("at least 2 rows") && e.getMessage().contains("has 1"),
                    e.getMessage());
            m.eval();
            assertEquals(2, m.forward(one).shape()[1], "one row is fine in evaluation");
            m.forward(two);
            IllegalStateException s = assertThrows(IllegalStateException.class, () -> m.backward(dy));
            assertTrue(s.getMessage().contains("training forward pass"), s.getMessage());
        }
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                () -> new dev.fuse4j.nn.Dense(be, "l", 3, 4, Activation.relu(), 0.5f, true, 1L, 2L, true));
        assertTrue(both.getMessage().contains("DropConnect or batch norm, not both"), both.getMessage());
        IllegalArgumentException prelu = assertThrows(IllegalArgumentException.class,
                () -> Sequential.builder(be, 3, 1).denseBatchNorm(4, Activation.prelu(), 0f));
        assertTrue(prelu.getMessage().contains("PReLU cannot follow batch norm"), prelu.getMessage());
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        Arrays.fill(a, 1f);
        return a;
    }

    private static double[] widen(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    private static float[] narrow(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }
}
