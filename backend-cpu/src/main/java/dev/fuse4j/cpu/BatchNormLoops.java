package dev.fuse4j.cpu;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.PhiloxMask;

/**
 * Batch normalisation's passes on the CPU, in float32, the same formulas as the GPU kernels in
 * {@code elementwise.h}: the statistics, the normalisation fused with the activation and the mask, and the backward.
 * Both CPU backends run them; each walks the output in row-major order, so the per-feature sums are added in the
 * order of the rows and come out the same bits on every run.
 */
final class BatchNormLoops {
    private BatchNormLoops() {
    }

    /** Per feature: the mean and the biased variance ({@link ShiftedSums}), rows in order. */
    static void statistics(int n, int out, float[] z, float[] stats) {
        ShiftedSums sums = new ShiftedSums(out);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                sums.add(i, j, z[i * out + j]);
            }
        }
        sums.finish(n, stats);
    }

    /** {@code 1/√(var + eps)} of each feature. */
    static float[] inverseDeviations(int out, float[] stats, float eps) {
        float[] inv = new float[out];
        for (int j = 0; j < out; j++) {
            inv[j] = 1f / (float) Math.sqrt(stats[out + j] + eps);
        }
        return inv;
    }

    /** {@code y = dropout(act(gamma·(z − mean)/√(var + eps) + beta))}. */
    static void forward(int n, int out, float[] z, float[] stats, float[] gamma, float[] beta, float eps,
                        Activation act, Dropout d, float[] y) {
        float[] inv = inverseDeviations(out, stats, eps);
        float scale = d.scale();
        PhiloxMask mask = new PhiloxMask(d);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                int e = i * out + j;
                float u = gamma[j] * ((z[e] - stats[j]) * inv[j]) + beta[j];
                y[e] = mask.keep(e) ? Epilogue.activate(act.kind(), act.alpha(), u) * scale : 0f;
            }
        }
    }

    /**
     * {@code du} as the fused layer's dz of {@code dropout(act(u))}, then {@code dbeta = Σ_i du},
     * {@code dgamma = Σ_i du·x̂} and {@code dz = gamma/√(var + eps)/n · (n·du − dbeta − x̂·dgamma)}.
     */
    static void backward(int n, int out, float[] dy, float[] y, float[] z, float[] stats, float[] gamma,
                         float[] beta, float eps, Activation act, Dropout d, float[] dz, float[] dgamma,
                         float[] dbeta) {
        float[] inv = inverseDeviations(out, stats, eps);
        float scale = d.scale();
        PhiloxMask mask = new PhiloxMask(d);
        boolean needsMask = act.kind() != Activation.Kind.RELU; // ReLU reads its mask off y
        float[] xhat = new float[n * out];
        float[] du = dz; // du first, overwritten by dz once the sums are known
        java.util.Arrays.fill(dgamma, 0f);
        java.util.Arrays.fill(dbeta, 0f);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                int e = i * out + j;
                float xh = (z[e] - stats[j]) * inv[j];
                xhat[e] = xh;
                float g = Epilogue.dz(act.kind(), act.alpha(), scale, dy[e], y[e], gamma[j] * xh + beta[j],
                        !needsMask || mask.keep(e));
                du[e] = g;
                dbeta[j] += g;
                dgamma[j] += g * xh;
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                int e = i * out + j;
                float k = gamma[j] * inv[j] / n;
                dz[e] = k * (n * du[e] - dbeta[j] - xhat[e] * dgamma[j]);
            }
        }
    }
}
