package dev.fuse4j.bench.peers;

import dev.fuse4j.Dropout;
import dev.fuse4j.PhiloxMask;

/**
 * The fused layer in float32 written the plain way, as most JVM code would: forward and backward loops on one thread,
 * and the element-wise steps around the products (bias, ReLU and dropout after the forward product; dz and db before
 * the backward products), which the OpenBLAS peer wraps around its SGEMMs. The mask is the Philox contract's, so the
 * outputs can be cross-checked.
 */
public final class PlainLayer {
    private PlainLayer() {
    }

    /** {@code y = dropout(relu(x·wᵀ + b))} into a new array: a dot product per output element, then the epilogue. */
    public static float[] forward(float[] x, float[] w, float[] b, int n, int in, int out, Dropout d) {
        float[] y = new float[n * out];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                float acc = 0f;
                for (int k = 0; k < in; k++) {
                    acc += x[i * in + k] * w[j * in + k];
                }
                y[i * out + j] = acc;
            }
        }
        epilogue(y, b, n, out, d);
        return y;
    }

    /**
     * {@code {dx, dw, db}} from the forward output {@code y}. It does not skip the zero entries of {@code dz}: that
     * would do a quarter of the work at p = 0.5 while the tables count all of it, and inflate the GFLOP/s fourfold.
     */
    public static float[][] backward(float[] x, float[] w, float[] dy, float[] y, int n, int in, int out, Dropout d) {
        float[] dz = dz(y, dy, d);
        float[] dx = new float[n * in];
        float[] dw = new float[out * in];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                float g = dz[i * out + j];
                for (int k = 0; k < in; k++) {
                    dx[i * in + k] += g * w[j * in + k];
                    dw[j * in + k] += g * x[i * in + k];
                }
            }
        }
        return new float[][] {dx, dw, biasGradient(dz, n, out)};
    }

    /** In place over the {@code [n, out]} product {@code z = x·wᵀ}: {@code y = keep ? relu(z + b)·s : 0}. */
    static void epilogue(float[] z, float[] b, int n, int out, Dropout d) {
        float scale = d.scale();
        PhiloxMask mask = new PhiloxMask(d);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                int e = i * out + j;
                float v = z[e] + b[j];
                z[e] = mask.keep(e) && v > 0f ? v * scale : 0f;
            }
        }
    }

    /** {@code dz = dy·s} where {@code y > 0}, else 0: y's sign carries both the mask and ReLU's side. */
    static float[] dz(float[] y, float[] dy, Dropout d) {
        float scale = d.scale();
        float[] dz = new float[y.length];
        for (int e = 0; e < dz.length; e++) {
            dz[e] = y[e] > 0f ? dy[e] * scale : 0f;
        }
        return dz;
    }

    /** {@code db[j] = Σ_i dz[i][j]} over the {@code [n, out]} array dz. */
    static float[] biasGradient(float[] dz, int n, int out) {
        float[] db = new float[out];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                db[j] += dz[i * out + j];
            }
        }
        return db;
    }
}
