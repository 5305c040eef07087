package dev.fuse4j.nn;

import dev.fuse4j.Backend;
import dev.fuse4j.CrossEntropy;
import dev.fuse4j.Tensor;

import java.util.SplittableRandom;

/**
 * Epochs of mini-batch training and evaluation on host-held data ({@code x [n, features]} row-major, labels as
 * float class indices). Each batch is copied to the model's backend; only the loss and the count of correct
 * predictions come back.
 */
public final class Training {

    private Training() {
    }

    /** Mean loss and accuracy over the examples of one pass. */
    public record EpochResult(double loss, double accuracy, int examples) {
    }

    /** MC dropout over a data set: the mean per-class variance, and the accuracy of the MC mean prediction. */
    public record UncertaintyResult(double meanVariance, double accuracy, int examples) {
    }

    /** Told after each batch, for progress display. */
    @FunctionalInterface
    public interface BatchListener {
        void batchDone(int done, int total, double meanLossSoFar);
    }

    /**
     * The order in which epoch {@code epoch} (counted from 0) visits {@code n} examples: a Fisher–Yates shuffle
     * seeded from {@code (seed, epoch)} alone, so a run resumed at an epoch boundary sees the batches an
     * uninterrupted run would.
     */
    public static int[] shuffledOrder(int n, long seed, long epoch) {
        SplittableRandom r = new SplittableRandom(Sequential.Builder.derive(seed, 0x5348_5546L + epoch));
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /**
     * One pass of training over {@code order}, one optimizer step per batch of {@code batchSize} examples.
     *
     * @throws ArithmeticException at the first batch whose loss is NaN or infinite (the run diverged), before that
     *                             batch's step; the message names the batch and the loss
     */
    public static EpochResult trainEpoch(Sequential model, Optimizer optimizer, float[] x, float[] labels,
                                         int[] order, int batchSize, BatchListener listener) {
        int features = checkData(model, x, labels, batchSize);
        model.train();
        Backend be = model.backend();
        int batches = (order.length + batchSize - 1) / batchSize;
        double lossSum = 0;
        long correct = 0;
        for (int bi = 0; bi < batches; bi++) {
            int from = bi * batchSize;
            int count = Math.min(batchSize, order.length - from);
            float[] xb = new float[count * features];
            float[] lb = new float[count];
            gather(x, labels, features, order, from, count, xb, lb);
            try (Tensor xt = be.tensor(xb, count, features);
                 Tensor lt = be.tensor(lb, count)) {
                Tensor logits = model.forward(xt);
                try (CrossEntropy ce = be.softmaxCrossEntropy(logits, lt)) {
                    if (!Float.isFinite(ce.loss())) {
                        throw new ArithmeticException("training diverged: the loss of batch " + bi + " is "
                                + ce.loss() + "; lower the learning rate");
                    }
                    lossSum += (double) ce.loss() * count;
                    correct += ce.correct();
                    model.backward(ce.grad());
                }
                optimizer.step();
            }
            if (listener != null) {
                listener.batchDone(bi + 1, batches, lossSum / (from + count));
            }
        }
        return new EpochResult(lossSum / order.length, (double) correct / order.length, order.length);
    }

    /** Loss and accuracy in evaluation mode (no dropout); the model's mode is restored afterwards. */
    public static EpochResult evaluate(Sequential model, float[] x, float[] labels, int batchSize) {
        int features = checkData(model, x, labels, batchSize);
        boolean wasTraining = model.isTraining();
        model.eval();
        Backend be = model.backend();
        int n = labels.length;
        double lossSum = 0;
        long correct = 0;
        try {
            for (int from = 0; from < n; from += batchSize) {
                int count = Math.min(batchSize, n - from);
                float[] xb = java.util.Arrays.copyOfRange(x, from * features, (from + count) * features);
                float[] lb = java.util.Arrays.copyOfRange(labels, from, from + count);
                try (Tensor xt = be.tensor(xb, count, features);
                     Tensor lt = be.tensor(lb, count);
                     CrossEntropy ce = be.softmaxCrossEntropy(model.forward(xt), lt)) {
                    lossSum += (double) ce.loss() * count;
                    correct += ce.correct();
                }
            }
        } finally {
            if (wasTraining) {
                model.train();
            }
        }
        return new EpochResult(lossSum / n, (double) correct / n, n);
    }

    /**
     * MC dropout ({@link Sequential#predictWithUncertainty}) over host data in batches of {@code batchSize}, each
     * batch drawing the masks of its rows in the whole set: how unsure the model is, and how often the mean of the
     * stochastic passes names the label. Reproducible from {@code seed}; the model's training offsets are untouched.
     */
    public static UncertaintyResult evaluateWithUncertainty(Sequential model, float[] x, float[] labels, int batchSize,
                                                            int samples, long seed) {
        int features = checkData(model, x, labels, batchSize);
        Backend be = model.backend();
        int n = labels.length;
        double varianceSum = 0;
        long correct = 0;
        for (int from = 0; from < n; from += batchSize) {
            int count = Math.min(batchSize, n - from);
            float[] xb = java.util.Arrays.copyOfRange(x, from * features, (from + count) * features);
            try (Tensor xt = be.tensor(xb, count, features)) {
                PredictiveUncertainty u = model.predictWithUncertainty(xt, samples, seed, from);
                varianceSum += u.meanVariance() * count;
                correct += u.correct(java.util.Arrays.copyOfRange(labels, from, from + count));
            }
        }
        return new UncertaintyResult(varianceSum / n, (double) correct / n, n);
    }

    private static int checkData(Sequential model, float[] x, float[] labels, int batchSize) {
        int features = model.inFeatures();
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be > 0 but is " + batchSize);
        }
        if (labels.length == 0) {
            throw new IllegalArgumentException("no examples to train or evaluate on");
        }
        if ((long) labels.length * features != x.length) {
            throw new IllegalArgumentException("data holds " + x.length + " values, which is not " + labels.length
                    + " examples × " + features + " features (the model's input width)");
        }
        return features;
    }

    private static void gather(float[] x, float[] labels, int features, int[] order, int from, int count,
                               float[] xb, float[] lb) {
        for (int i = 0; i < count; i++) {
            int src = order[from + i];
            System.arraycopy(x, src * features, xb, i * features, features);
            lb[i] = labels[src];
        }
    }
}
