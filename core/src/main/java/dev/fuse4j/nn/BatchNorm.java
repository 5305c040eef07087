package dev.fuse4j.nn;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.BatchNormGrads;
import dev.fuse4j.Dropout;
import dev.fuse4j.Tensor;

import java.util.Arrays;
import java.util.Locale;

/**
 * Batch normalisation of a {@link Dense} layer's output before its activation, as PyTorch's {@code BatchNorm1d}:
 * the scale {@code gamma} (1 at first) and shift {@code beta} (0) are trained, and the running mean and variance
 * (0 and 1 at first) follow each training batch's statistics with the momentum, the variance unbiased. In training
 * the layer normalises with the batch's own statistics; in evaluation the running ones are folded into the layer's
 * weights, so evaluation is the plain fused op.
 */
public final class BatchNorm implements AutoCloseable {
    /** PyTorch's defaults. */
    public static final float DEFAULT_EPS = 1e-5f;
    public static final float DEFAULT_MOMENTUM = 0.1f;

    private final Backend backend;
    private final float eps;
    private final float momentum;
    private final Parameter gamma;
    private final Parameter beta;
    private final float[] runningMean;
    private final float[] runningVar;

    // From the last training forward pass (owned): the batch statistics backward normalises with.
    private Tensor lastStats;

    BatchNorm(Backend backend, String name, int features, float eps, float momentum) {
        if (!(eps > 0f && Float.isFinite(eps))) {
            throw new IllegalArgumentException("batch norm eps must be finite and > 0 but is " + eps);
        }
        if (!(momentum >= 0f && momentum <= 1f)) {
            throw new IllegalArgumentException("batch norm momentum must be in [0, 1] but is " + momentum);
        }
        this.backend = backend;
        this.eps = eps;
        this.momentum = momentum;
        float[] ones = new float[features];
        Arrays.fill(ones, 1f);
        Tensor g = backend.tensor(ones, features);
        Tensor b;
        try {
            b = backend.zeros(features);
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
        this.gamma = new Parameter(name + ".gamma", g);
        this.beta = new Parameter(name + ".beta", b);
        this.runningMean = new float[features];
        this.runningVar = ones.clone();
    }

    public float eps() {
        return eps;
    }

    public float momentum() {
        return momentum;
    }

    public Parameter gamma() {
        return gamma;
    }

    public Parameter beta() {
        return beta;
    }

    /** The running means, a copy. */
    public float[] runningMean() {
        return runningMean.clone();
    }

    /** The running (unbiased) variances, a copy. */
    public float[] runningVar() {
        return runningVar.clone();
    }

    /**
     * Refuses a training batch of {@code n} rows below 2: it has no variance to normalise by, as PyTorch refuses it.
     */
    void requireTrainingRows(int n, String layer) {
        if (n < 2) {
            throw new IllegalArgumentException(layer + ": batch norm in training needs at least 2 rows to take "
                    + "statistics from but the batch has " + n + "; use eval() for single rows");
        }
    }

    /**
     * Pass 2 of a training step on pass 1's {@code z [n, features]} and its batch statistics {@code stats}:
     * {@code dropout(act(gamma·(z − mean)/√(var + eps) + beta))}; the running statistics take a step towards the
     * batch's. Keeps {@code stats} for backward once it returns; the caller closes both if it throws.
     */
    Tensor forwardTraining(Tensor z, Tensor stats, Activation act, Dropout d) {
        int n = z.shape()[0];
        Tensor y = backend.batchNormActivation(z, stats, gamma.value(), beta.value(), eps, act, d);
        try {
            updateRunning(stats.toArray(), n);
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
        releaseStatistics();
        lastStats = stats;
        return y;
    }

    /** PyTorch's update: {@code r ← (1 − m)·r + m·mean}, {@code v ← (1 − m)·v + m·var·n/(n − 1)}. */
    private void updateRunning(float[] stats, int n) {
        int features = runningMean.length;
        float unbias = (float) n / (n - 1);
        for (int j = 0; j < features; j++) {
            runningMean[j] = (1 - momentum) * runningMean[j] + momentum * stats[j];
            runningVar[j] = (1 - momentum) * runningVar[j] + momentum * stats[features + j] * unbias;
        }
    }

    /**
     * Backward of the last training forward pass (whose statistics it kept) from {@code dy} and its output {@code y}
     * over the layer's {@code z}: stores the gradients of gamma and beta and returns {@code dz}, which the caller closes.
     */
    Tensor backward(Tensor dy, Tensor y, Tensor z, Activation act, Dropout d) {
        BatchNormGrads g = backend.batchNormBackward(dy, y, z, lastStats, gamma.value(), beta.value(), eps, act, d);
        gamma.setGrad(g.dgamma());
        beta.setGrad(g.dbeta());
        return g.dz();
    }

    /**
     * The running statistics folded into a layer's {@code w [out, in]} and {@code b [out]}:
     * {@code {W·gamma/σ, (b − mean)·gamma/σ + beta}} with {@code σ = √(runningVar + eps)}, computed in double.
     */
    public float[][] fold(float[] w, float[] b) {
        int out = b.length;
        int in = w.length / out;
        float[] g = gamma.value().toArray();
        float[] bt = beta.value().toArray();
        float[] wf = new float[w.length];
        float[] bf = new float[out];
        for (int j = 0; j < out; j++) {
            double k = g[j] / Math.sqrt((double) runningVar[j] + eps);
            for (int c = 0; c < in; c++) {
                wf[j * in + c] = (float) (w[j * in + c] * k);
            }
            bf[j] = (float) ((b[j] - (double) runningMean[j]) * k + bt[j]);
        }
        return new float[][] {wf, bf};
    }

    /** The running means then the running variances, in one array. */
    float[] runningStatistics() {
        float[] all = Arrays.copyOf(runningMean, 2 * runningMean.length);
        System.arraycopy(runningVar, 0, all, runningMean.length, runningVar.length);
        return all;
    }

    /** Replaces the running statistics with {@code all} (the means then the variances), refused at a wrong length. */
    void loadRunningStatistics(float[] all, String layer) {
        if (all.length != 2 * runningMean.length) {
            throw new IllegalArgumentException(layer + ": batch norm keeps " + 2 * runningMean.length
                    + " running statistics (means then variances) but " + all.length + " were given");
        }
        System.arraycopy(all, 0, runningMean, 0, runningMean.length);
        System.arraycopy(all, runningMean.length, runningVar, 0, runningVar.length);
    }

    /** Part of the layer's description, which checkpoints compare. */
    String describe() {
        return String.format(Locale.ROOT, "batch_norm(eps=%s, momentum=%s)", eps, momentum);
    }

    private void releaseStatistics() {
        if (lastStats != null) {
            lastStats.close();
            lastStats = null;
        }
    }

    @Override
    public void close() {
        try {
            releaseStatistics();
        } finally {
            try {
                gamma.close();
            } finally {
                beta.close();
            }
        }
    }
}
