package dev.fuse4j.reference;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;

import static dev.fuse4j.reference.Reference.U;

/**
 * Batch normalisation beside the fused layer, {@code y = dropout(act(gamma·(z − mean)/√(var + eps) + beta))}, its
 * backward as PyTorch's {@code BatchNorm1d} in training, and the evaluation fold, in float64 straight from the
 * formulas of the design document, with the bound each float32 result must meet. Like {@link Reference} it takes
 * nothing from the code it judges: the mask comes from {@link Reference#mask}, the activations from their formulas.
 *
 * <p>Shapes: {@code z [n, out]} (the layer's {@code x·Wᵀ + b}), {@code gamma}, {@code beta} {@code [out]}, the
 * statistics {@code [2, out]} (means, then biased variances).
 */
public final class BatchNormReference {
    /** How far past the first-order rounding analysis a float32 result may stray: room for the terms it drops. */
    private static final double SAFETY = 2;

    private BatchNormReference() {
    }

    /** What forward must produce: {@code y} and the mask it used. */
    public record Forward(Expected y, boolean[] keep) {
    }

    /** What backward must produce: {@code dz [n, out]}, {@code dgamma [out]}, {@code dbeta [out]}. */
    public record Backward(Expected dz, Expected dgamma, Expected dbeta) {
    }

    /** The float64 statistics of a float32 {@code z} and how far a float32 computation of each may stray. */
    private record Stats(double[] mean, double[] var, double[] meanError, double[] varError) {
    }

    /**
     * The per-feature mean and biased variance of {@code z}, bounded as sums shifted by the feature's first value
     * are: the mean within {@code U·Σ|z − c|} and the variance within {@code (n + 4)·U·Σ(z − c)²/n} plus the mean's
     * error carried through its square. A backend that sums unshifted {@code z²} misses this bound when the mean is
     * large against the spread.
     */
    private static Stats stats(float[] z, int n, int out) {
        double[] mean = new double[out], var = new double[out], meanErr = new double[out], varErr = new double[out];
        for (int j = 0; j < out; j++) {
            double c = z[j];
            double s1 = 0, abs1 = 0, s2 = 0;
            for (int i = 0; i < n; i++) {
                double d = z[i * out + j] - c;
                s1 += d;
                abs1 += Math.abs(d);
                s2 += d * d;
            }
            double m1 = s1 / n;
            mean[j] = c + m1;
            var[j] = Math.max(s2 / n - m1 * m1, 0);
            double errM1 = U * abs1 + U * Math.abs(m1);
            meanErr[j] = SAFETY * (errM1 + U * (Math.abs(c) + Math.abs(m1)));
            varErr[j] = SAFETY * ((n + 4) * U * s2 / n + 2 * Math.abs(m1) * errM1 + 2 * U * m1 * m1);
        }
        return new Stats(mean, var, meanErr, varErr);
    }

    /** The statistics as a backend returns them, {@code [2, out]}: the means, then the biased variances. */
    public static Expected statistics(float[] z, int n, int out) {
        Stats s = stats(z, n, out);
        double[] value = new double[2 * out], bound = new double[2 * out];
        for (int j = 0; j < out; j++) {
            value[j] = s.mean[j];
            value[out + j] = s.var[j];
            bound[j] = s.meanError[j];
            bound[out + j] = s.varError[j];
        }
        return new Expected(value, bound);
    }

    /** {@code 1/√(var + eps)} of feature {@code j}. */
    private static double inverseDeviation(Stats s, int j, float eps) {
        return 1 / Math.sqrt(s.var[j] + eps);
    }

    /** How far a float32 {@code 1/√(var + eps)} may stray, relative to its value. */
    private static double inverseRelativeError(Stats s, int j, float eps) {
        return s.varError[j] / (2 * (s.var[j] + eps)) + 3 * U;
    }

    /**
     * The forward of batch norm's pass 2: {@code u = gamma·x̂ + beta} with {@code x̂ = (z − mean)/√(var + eps)} and
     * {@code y = keep ? act(u)·s : 0}; a kept element within the error of {@code u} (from the statistics', the
     * division's and the scale-and-shift's rounding) stretched by the activation's slope, a dropped one exactly 0.
     */
    public static Forward forward(float[] z, float[] gamma, float[] beta, float eps, int n, int out, Activation act,
                                  Dropout d) {
        Stats s = stats(z, n, out);
        boolean[] keep = Reference.mask(n, out, d);
        double scale = Reference.scale(d);
        double[] y = new double[n * out], bound = new double[n * out];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                int e = i * out + j;
                if (!keep[e]) {
                    continue;
                }
                double u = gamma[j] * xhat(z[e], s, j, eps) + beta[j];
                y[e] = Reference.activation(act, u) * scale;
                bound[e] = Reference.outputBound(act, uError(z[e], s, j, gamma[j], beta[j], eps), u, scale);
            }
        }
        return new Forward(new Expected(y, bound), keep);
    }

    private static double xhat(float z, Stats s, int j, float eps) {
        return (z - s.mean[j]) * inverseDeviation(s, j, eps);
    }

    /** How far a float32 {@code x̂} may stray. */
    private static double xhatError(float z, Stats s, int j, float eps) {
        double inv = inverseDeviation(s, j, eps);
        return SAFETY * (s.meanError[j] * inv + Math.abs(z - s.mean[j]) * inv * inverseRelativeError(s, j, eps)
                + 2 * U * Math.abs(xhat(z, s, j, eps)));
    }

    /** How far a float32 {@code u = gamma·x̂ + beta} may stray. */
    private static double uError(float z, Stats s, int j, float gamma, float beta, float eps) {
        double xh = xhat(z, s, j, eps);
        return Math.abs(gamma) * xhatError(z, s, j, eps) + SAFETY * 2 * U * (Math.abs(gamma * xh) + Math.abs(beta));
    }

    /** The largest |act''|: how an error in {@code u} moves the derivative (0 where the slope is piecewise flat). */
    private static double curvature(Activation act) {
        return switch (act.kind()) {
            case GELU -> 1;
            case ELU -> act.alpha();
            case RELU, LEAKY_RELU, IDENTITY -> 0;
            case PRELU -> throw new IllegalArgumentException("PReLU cannot follow batch norm (no per-feature slopes)");
        };
    }

    /**
     * Backward as PyTorch's {@code BatchNorm1d} in training, from the backend's own {@code y} (which ReLU and leaky
     * ReLU read their side from, as the fused layer's backward does): {@code du = dy·s·act'(u)} where kept,
     * {@code dbeta = Σ_i du}, {@code dgamma = Σ_i du·x̂}, {@code dz = gamma/√(var + eps)/n·(n·du − dbeta − x̂·dgamma)},
     * each within the rounding of its sums and of {@code u} and {@code x̂}.
     */
    public static Backward backward(float[] dy, float[] y, float[] z, float[] gamma, float[] beta, float eps, int n,
                                    int out, Activation act, Dropout d) {
        Stats s = stats(z, n, out);
        boolean[] keep = Reference.mask(n, out, d);
        float[] u = new float[n * out];
        double[] xh = new double[n * out], xhErr = new double[n * out];
        double[] duErr = new double[n * out];
        double sc = Reference.scale(d);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                int e = i * out + j;
                xh[e] = xhat(z[e], s, j, eps);
                xhErr[e] = xhatError(z[e], s, j, eps);
                u[e] = (float) (gamma[j] * xh[e] + beta[j]);
                duErr[e] = keep[e] ? Math.abs(dy[e] * sc) * (Reference.derivativeSlack(act)
                        + curvature(act) * uError(z[e], s, j, gamma[j], beta[j], eps)) : 0;
            }
        }
        double[] du = Reference.dz(dy, y, u, keep, act, d);
        double[] dgamma = new double[out], dbeta = new double[out], dgErr = new double[out], dbErr = new double[out];
        for (int j = 0; j < out; j++) {
            double magB = 0, magG = 0;
            for (int i = 0; i < n; i++) {
                int e = i * out + j;
                dbeta[j] += du[e];
                dgamma[j] += du[e] * xh[e];
                magB += Math.abs(du[e]);
                magG += Math.abs(du[e] * xh[e]);
                dbErr[j] += duErr[e];
                dgErr[j] += duErr[e] * Math.abs(xh[e]) + Math.abs(du[e]) * xhErr[e];
            }
            dbErr[j] = SAFETY * (dbErr[j] + (n + 1) * U * magB);
            dgErr[j] = SAFETY * (dgErr[j] + (n + 2) * U * magG);
        }
        double[] dz = new double[n * out], dzErr = new double[n * out];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                int e = i * out + j;
                double k = gamma[j] * inverseDeviation(s, j, eps) / n;
                double a = n * du[e] - dbeta[j] - xh[e] * dgamma[j];
                double aMag = n * Math.abs(du[e]) + Math.abs(dbeta[j]) + Math.abs(xh[e] * dgamma[j]);
                double aErr = n * duErr[e] + dbErr[j] + Math.abs(xh[e]) * dgErr[j] + xhErr[e] * Math.abs(dgamma[j])
                        + 3 * U * aMag;
                dz[e] = k * a;
                dzErr[e] = SAFETY * Math.abs(k) * (aErr + aMag * (inverseRelativeError(s, j, eps) + 3 * U));
            }
        }
        return new Backward(new Expected(dz, dzErr), new Expected(dgamma, dgErr), new Expected(dbeta, dbErr));
    }

    /**
     * Batch norm's forward in float64 on float64 inputs, for finite differences: {@code y} of {@code z [n, out]}
     * under the given mask and dropout scale.
     */
    public static double[] outputOf(double[] z, double[] gamma, double[] beta, double eps, int n, int out,
                                    Activation act, boolean[] keep, double scale) {
        double[] y = new double[n * out];
        for (int j = 0; j < out; j++) {
            double mean = 0;
            for (int i = 0; i < n; i++) {
                mean += z[i * out + j];
            }
            mean /= n;
            double var = 0;
            for (int i = 0; i < n; i++) {
                double dev = z[i * out + j] - mean;
                var += dev * dev;
            }
            var /= n;
            double inv = 1 / Math.sqrt(var + eps);
            for (int i = 0; i < n; i++) {
                int e = i * out + j;
                y[e] = keep[e] ? Reference.activation(act, gamma[j] * (z[e] - mean) * inv + beta[j]) * scale : 0;
            }
        }
        return y;
    }

    /**
     * PyTorch's running statistics after one training step on a batch of {@code n} rows whose statistics are
     * {@code mean} and biased {@code var}: {@code r ← (1 − m)·r + m·mean} and {@code v ← (1 − m)·v + m·var·n/(n − 1)}
     * (the unbiased variance). Updates {@code runningMean} and {@code runningVar} in place.
     */
    public static void updateRunning(double[] runningMean, double[] runningVar, double[] mean, double[] var, int n,
                                     double momentum) {
        for (int j = 0; j < runningMean.length; j++) {
            runningMean[j] = (1 - momentum) * runningMean[j] + momentum * mean[j];
            runningVar[j] = (1 - momentum) * runningVar[j] + momentum * var[j] * n / (n - 1);
        }
    }

    /**
     * The evaluation fold of the running statistics into the layer, {@code W' = W·gamma/σ} and
     * {@code b' = (b − mean)·gamma/σ + beta} with {@code σ = √(runningVar + eps)}: returns {@code {W' [out, in],
     * b' [out]}}.
     */
    public static double[][] fold(float[] w, float[] b, float[] gamma, float[] beta, double[] runningMean,
                                  double[] runningVar, float eps, int in, int out) {
        double[] wf = new double[out * in], bf = new double[out];
        for (int j = 0; j < out; j++) {
            double k = gamma[j] / Math.sqrt(runningVar[j] + eps);
            for (int c = 0; c < in; c++) {
                wf[j * in + c] = w[j * in + c] * k;
            }
            bf[j] = (b[j] - runningMean[j]) * k + beta[j];
        }
        return new double[][] {wf, bf};
    }
}
