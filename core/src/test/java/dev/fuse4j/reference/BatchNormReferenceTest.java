package dev.fuse4j.reference;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The float64 batch-norm reference against its own definitions: two-pass statistics, derivatives, the fold. */
class BatchNormReferenceTest {

    @Test
    void statisticsAreTheTwoPassMeanAndBiasedVariance() {
        Random r = new Random(1);
        int n = 50, out = 3;
        float[] z = new float[n * out];
        for (int e = 0; e < z.length; e++) {
            z[e] = (float) (100 + 3 * r.nextGaussian());
        }
        Expected stats = BatchNormReference.statistics(z, n, out);
        for (int j = 0; j < out; j++) {
            double mean = 0, var = 0;
            for (int i = 0; i < n; i++) {
                mean += z[i * out + j] / (double) n;
            }
            for (int i = 0; i < n; i++) {
                var += (z[i * out + j] - mean) * (z[i * out + j] - mean) / n;
            }
            assertEquals(mean, stats.value()[j], 1e-9 * Math.abs(mean), "mean " + j);
            assertEquals(var, stats.value()[out + j], 1e-9 * var, "variance " + j);
            assertTrue(stats.bound()[out + j] < 1e-3 * var, "the variance's bound is tight: " + stats.bound()[out + j]);
        }
    }

    /** Backward's dz, dgamma and dbeta are the derivatives of {@code Σ dy·y} that central differences give. */
    @Test
    void backwardIsTheDerivativeOfItsForward() {
        int n = 7, out = 3;
        float eps = 1e-3f;
        for (Activation act : new Activation[] {Activation.gelu(), Activation.identity(), Activation.elu(0.7f)}) {
            Dropout d = Dropout.train(0.3f, 5L, 2L);
            Random r = new Random(3);
            float[] z = new float[n * out], dy = new float[n * out], gamma = new float[out], beta = new float[out];
            for (int e = 0; e < z.length; e++) {
                z[e] = (float) r.nextGaussian();
                dy[e] = (float) r.nextGaussian();
            }
            for (int j = 0; j < out; j++) {
                gamma[j] = (float) (1 + 0.3 * r.nextGaussian());
                beta[j] = (float) (0.3 * r.nextGaussian());
            }
            boolean[] keep = Reference.mask(n, out, d);
            double scale = Reference.scale(d);
            double[][] at = {widen(z), widen(gamma), widen(beta)};
            double[] y = BatchNormReference.outputOf(at[0], at[1], at[2], eps, n, out, act, keep, scale);
            float[] yf = new float[y.length];
            for (int e = 0; e < y.length; e++) {
                yf[e] = (float) y[e];
            }
            BatchNormReference.Backward b = BatchNormReference.backward(dy, yf, z, gamma, beta, eps, n, out, act, d);
            double[][] analytic = {b.dz().value(), b.dgamma().value(), b.dbeta().value()};
            double h = 1e-6;
            for (int t = 0; t < 3; t++) {
                for (int i = 0; i < at[t].length; i++) {
                    double saved = at[t][i];
                    at[t][i] = saved + h;
                    double plus = dot(dy, BatchNormReference.outputOf(at[0], at[1], at[2], eps, n, out, act, keep,
                            scale));
                    at[t][i] = saved - h;
                    double minus = dot(dy, BatchNormReference.outputOf(at[0], at[1], at[2], eps, n, out, act, keep,
                            scale));
                    at[t][i] = saved;
                    double fd = (plus - minus) / (2 * h);
                    assertEquals(fd, analytic[t][i], 1e-6 * (1 + Math.abs(fd)), act + " tensor " + t + "[" + i + "]");
                }
            }
        }
    }

    /** The fold gives what normalising with the running statistics gives. */
    @Test
    void foldedWeightsNormaliseWithTheRunningStatistics() {
        int in = 4, out = 3;
        Random r = new Random(7);
        float[] w = new float[out * in], b = new float[out], gamma = new float[out], beta = new float[out];
        float[] x = new float[in];
        double[] rm = new double[out], rv = new double[out];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
        }
        for (int j = 0; j < out; j++) {
            b[j] = (float) r.nextGaussian();
            gamma[j] = (float) (1 + r.nextGaussian());
            beta[j] = (float) r.nextGaussian();
            rm[j] = r.nextGaussian();
            rv[j] = 0.5 + r.nextDouble();
        }
        for (int k = 0; k < in; k++) {
            x[k] = (float) r.nextGaussian();
        }
        double[][] f = BatchNormReference.fold(w, b, gamma, beta, rm, rv, 1e-5f, in, out);
        for (int j = 0; j < out; j++) {
            double z = b[j], folded = f[1][j];
            for (int k = 0; k < in; k++) {
                z += (double) x[k] * w[j * in + k];
                folded += x[k] * f[0][j * in + k];
            }
            double want = gamma[j] * (z - rm[j]) / Math.sqrt(rv[j] + 1e-5f) + beta[j];
            assertEquals(want, folded, 1e-12 * (1 + Math.abs(want)), "feature " + j);
        }
    }

    private static double[] widen(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    private static double dot(float[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
