package dev.fuse4j.contract;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.Philox;

/**
 * The fused layer in float64, straight from the formulas of DESIGN.md, with the error bound each float32 result
 * must meet. Deliberately simple: it is what every backend is judged against.
 */
public final class Reference {
    private Reference() {
    }

    /** Unit roundoff of float32. */
    public static final double U = 0x1p-24;

    /** {@code z[i][j] = b[j] + Σ_k x[i][k]·w[j][k]} in double. */
    public static double[] preActivation(float[] x, float[] w, float[] b, int n, int in, int out) {
        double[] z = new double[n * out];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                double s = b[j];
                for (int k = 0; k < in; k++) {
                    s += (double) x[i * in + k] * w[j * in + k];
                }
                z[i * out + j] = s;
            }
        }
        return z;
    }

    /** {@code |b[j]| + Σ_k |x[i][k]·w[j][k]|}: the magnitude the rounding error of z scales with. */
    public static double[] magnitude(float[] x, float[] w, float[] b, int n, int in, int out) {
        double[] m = new double[n * out];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                double s = Math.abs(b[j]);
                for (int k = 0; k < in; k++) {
                    s += Math.abs((double) x[i * in + k] * w[j * in + k]);
                }
                m[i * out + j] = s;
            }
        }
        return m;
    }

    /** The mask of DESIGN.md, element by element (slow and obviously right). */
    public static boolean[] mask(int n, int out, Dropout d) {
        boolean[] keep = new boolean[n * out];
        for (int e = 0; e < keep.length; e++) {
            keep[e] = Philox.keep(e, d);
        }
        return keep;
    }

    /** The DESIGN.md bound {@code 2·K·2⁻²⁴·magnitude·s}, with K the length of the sum. */
    public static double bound(int k, double magnitude, double scale) {
        return 2.0 * (k + 1) * U * magnitude * scale;
    }

    /** dz as the contract defines it, from the backend's own forward output {@code y} (and {@code z} for GELU). */
    public static double[] dz(float[] dy, float[] y, float[] z, boolean[] keep, Activation act, Dropout d) {
        double s = d.scale();
        double[] dz = new double[dy.length];
        for (int e = 0; e < dy.length; e++) {
            dz[e] = switch (act.kind()) {
                case RELU -> y[e] > 0 ? dy[e] * s : 0.0;
                case LEAKY_RELU -> y[e] > 0 ? dy[e] * s : y[e] < 0 ? dy[e] * s * act.alpha() : 0.0;
                case GELU -> keep[e] ? dy[e] * s * act.derivative(z[e]) : 0.0;
                case IDENTITY -> keep[e] ? dy[e] * s : 0.0;
            };
        }
        return dz;
    }
}
