package dev.fuse4j.cpu;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import static dev.fuse4j.cpu.Tuning.L;
import static dev.fuse4j.cpu.Tuning.S;

/**
 * Batch normalisation's second pass and its backward on the vector path, over the worker pool in tasks of whole rows.
 * The element formulas are {@link BatchNormLoops}'s, in the same float32 operations: forward normalises a run of a
 * row and hands it to the fused layer's {@link TileEpilogue} (β as its bias, then the activation, the scale and the
 * Philox mask with its channel and variational index rules); backward forms {@code du} with the fused layer's
 * {@link BackwardDz}. The per-feature sums {@code dβ} and {@code dγ} are added per task of a fixed number of rows and
 * the tasks' partials in task order, so they are the same bits on every run and at every thread count. Every
 * activation batch norm takes runs here: GELU's and ELU's exp and tanh, from {@link VectorMath}, are the same bits
 * at every JIT tier.
 */
final class VectorBatchNorm {
    /** Rows per task of the element passes: enough to amortise a task, few enough to spread over the cores. */
    private static final int ROWS_PER_TASK = 16;

    private final WorkerPool pool;
    private final int n;
    private final int out;
    private final float[] z;
    private final float[] mean;
    /** {@code γ/√(var + eps)}'s factors: {@code 1/√(var + eps)} per feature. */
    private final float[] inv;
    private final float[] gamma;

    VectorBatchNorm(WorkerPool pool, int n, int out, float[] z, float[] stats, float[] gamma, float eps) {
        this.pool = pool;
        this.n = n;
        this.out = out;
        this.z = z;
        this.mean = stats; // the means are stats[0 .. out)
        this.inv = BatchNormLoops.inverseDeviations(out, stats, eps);
        this.gamma = gamma;
    }

    /** {@code y = dropout(act(gamma·(z − mean)/√(var + eps) + beta))}. */
    void forward(float[] beta, Activation act, Dropout d, float[] y) {
        TileEpilogue shiftAndActivate = new TileEpilogue(beta, act, d, null, out);
        int tasks = (n + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        pool.parallelFor(tasks, task -> {
            float[] tile = new float[VectorPhilox.SPAN]; // whole vectors, as the epilogue reads a GEMM tile
            int to = Math.min(n, (task + 1) * ROWS_PER_TASK);
            for (int i = task * ROWS_PER_TASK; i < to; i++) {
                int at = i * out;
                for (int j0 = 0; j0 < out; j0 += VectorPhilox.SPAN) {
                    int cols = Math.min(VectorPhilox.SPAN, out - j0);
                    scaled(at, j0, cols, tile, 0);
                    shiftAndActivate.apply(tile, 0, i, j0, cols);
                    System.arraycopy(tile, 0, y, at + j0, cols);
                }
            }
        });
    }

    /**
     * {@code du} (into {@code dz}) as the fused layer's dz of {@code dropout(act(u))} at the recomputed
     * {@code u = gamma·x̂ + beta} (written into {@code u}, scratch of {@code n·out} floats), then
     * {@code dbeta = Σ_i du}, {@code dgamma = Σ_i du·x̂} and, in place, {@code dz = gamma/√(var + eps)/n ·
     * (n·du − dbeta − x̂·dgamma)}.
     */
    void backward(float[] dy, float[] y, float[] beta, Activation act, Dropout d, float[] u, float[] dz,
                  float[] dgamma, float[] dbeta) {
        overRows(i -> {
            int at = i * out;
            scaled(at, 0, out, u, at);
            addTo(u, at, beta);
        });
        BackwardDz du = new BackwardDz(dy, y, u, out, act, d);
        du.formInto(dz, dbeta, n, pool);
        du.columnSums(dgamma, n, pool, (i, acc) -> {
            int at = i * out;
            forColumns(out, (j, m) -> {
                FloatVector xh = normalised(at + j, j, m);
                FloatVector.fromArray(S, acc, j, m).add(FloatVector.fromArray(S, dz, at + j, m).mul(xh))
                        .intoArray(acc, j, m);
            });
        });
        float[] k = new float[out];
        for (int j = 0; j < out; j++) {
            k[j] = gamma[j] * inv[j] / n;
        }
        float rows = n;
        overRows(i -> {
            int at = i * out;
            forColumns(out, (j, m) -> {
                FloatVector xh = normalised(at + j, j, m);
                FloatVector sum = FloatVector.fromArray(S, dz, at + j, m).mul(rows)
                        .sub(FloatVector.fromArray(S, dbeta, j, m)).sub(xh.mul(FloatVector.fromArray(S, dgamma, j, m)));
                FloatVector.fromArray(S, k, j, m).mul(sum).intoArray(dz, at + j, m);
            });
        });
    }

    /** {@code x̂ = (z − mean)·inv} of the lanes from element {@code e}, column {@code j}. */
    private FloatVector normalised(int e, int j, VectorMask<Float> m) {
        return FloatVector.fromArray(S, z, e, m).sub(FloatVector.fromArray(S, mean, j, m))
                .mul(FloatVector.fromArray(S, inv, j, m));
    }

    /** Writes {@code gamma·x̂} of row elements {@code at + j0 ..} (columns {@code j0 .. j0+cols-1}) into dst. */
    private void scaled(int at, int j0, int cols, float[] dst, int to) {
        forColumns(cols, (c, m) -> FloatVector.fromArray(S, gamma, j0 + c, m).mul(normalised(at + j0 + c, j0 + c, m))
                .intoArray(dst, to + c, m));
    }

    /** Adds {@code v [out]} to the row of {@code dst} at {@code at}. */
    private void addTo(float[] dst, int at, float[] v) {
        forColumns(out, (j, m) -> FloatVector.fromArray(S, dst, at + j, m).add(FloatVector.fromArray(S, v, j, m))
                .intoArray(dst, at + j, m));
    }

    /** A vector's worth of columns from {@code j}, {@code m} the lanes that exist. */
    private interface Lanes {
        void apply(int j, VectorMask<Float> m);
    }

    private static void forColumns(int cols, Lanes body) {
        for (int j = 0; j < cols; j += L) {
            body.apply(j, S.indexInRange(j, cols));
        }
    }

    /** Runs {@code row} on every row, in tasks of {@link #ROWS_PER_TASK} rows over the pool. */
    private void overRows(java.util.function.IntConsumer row) {
        int tasks = (n + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        pool.parallelFor(tasks, t -> {
            int to = Math.min(n, (t + 1) * ROWS_PER_TASK);
            for (int i = t * ROWS_PER_TASK; i < to; i++) {
                row.accept(i);
            }
        });
    }
}
