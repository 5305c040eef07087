package dev.fuse4j.cpu;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.util.Arrays;

import static dev.fuse4j.cpu.Tuning.L;
import static dev.fuse4j.cpu.Tuning.S;

/**
 * Forms {@code dz = dy · s · act'(z)} where the element was kept (else 0) for a whole backward call, in one
 * vectorised pass, and sums {@code db = Σ_i dz[i]} on the way. ReLU reads mask and side off {@code y} (0 where
 * {@code y <= 0}, so a NaN passes, as PyTorch's threshold backward); the others take the regenerated Philox mask, leaky
 * ReLU its side from {@code y > 0}, GELU and ELU their slope from {@code z}: nothing but {@code y} (and {@code z} for
 * GELU and ELU) is kept from forward. Both backward products then read {@code dz} with
 * plain packers, so it is formed once rather than once per product. PReLU takes its side from {@code z > 0} and
 * its slope per column, and {@link #slopeGradientInto} sums its slope gradient over the rows the same way.
 */
final class BackwardDz {
    /** Rows per task: large enough to amortise a task, small enough to spread over the cores. */
    private static final int ROWS_PER_TASK = 16;

    private final float[] dy;
    private final float[] y;
    private final float[] z;
    private final int out;
    private final Activation.Kind act;
    private final float alpha;
    /** PReLU's slope per column, else null. */
    private final float[] slope;
    private final float scale;
    private final VectorPhilox philox;

    BackwardDz(float[] dy, float[] y, float[] z, int out, Activation act, Dropout d) {
        this.dy = dy;
        this.y = y;
        this.z = z;
        this.out = out;
        this.act = act.kind();
        this.alpha = act.alpha();
        this.slope = CpuTensor.slopes(act);
        this.scale = d.scale();
        boolean maskFromPhilox = act.kind() != Activation.Kind.RELU;
        this.philox = maskFromPhilox && d.training() ? new VectorPhilox(d) : null;
    }

    /**
     * Writes dz of all {@code n} rows into {@code dz[0 .. n·out)} and its column sums into {@code db}. The partial
     * sums of each task are added in task order, so db does not depend on which thread ran what.
     */
    void formInto(float[] dz, float[] db, int n, WorkerPool pool) {
        columnSums(db, n, pool, (i, acc) -> {
            row(i, dz);
            int at = i * out;
            int j = 0;
            for (; j <= out - L; j += L) {
                FloatVector.fromArray(S, acc, j).add(FloatVector.fromArray(S, dz, at + j)).intoArray(acc, j);
            }
            for (; j < out; j++) {
                acc[j] += dz[at + j];
            }
        });
    }

    /**
     * PReLU's slope gradient of all {@code n} rows into {@code da}: {@code Σ_i dy·s·z} over the kept elements of
     * each column where {@code z > 0} fails (as {@link Epilogue#slopeTerm}), the tasks' partial sums added in task
     * order.
     */
    void slopeGradientInto(float[] da, int n, WorkerPool pool) {
        columnSums(da, n, pool, this::addSlopeTerms);
    }

    /** Adds what row {@code i} gives each column to {@code acc [out]}. */
    interface RowSum {
        void add(int i, float[] acc);
    }

    /**
     * {@code sums[j]} = the column sums of what {@code rowSum} gives each row, over rows split into tasks; the
     * partial sums of each task are added in task order, so the sums do not depend on which thread ran what.
     */
    void columnSums(float[] sums, int n, WorkerPool pool, RowSum rowSum) {
        int tasks = (n + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        float[][] partial = new float[tasks][];
        pool.parallelFor(tasks, t -> {
            float[] acc = new float[out];
            int to = Math.min(n, (t + 1) * ROWS_PER_TASK);
            for (int i = t * ROWS_PER_TASK; i < to; i++) {
                rowSum.add(i, acc);
            }
            partial[t] = acc;
        });
        Arrays.fill(sums, 0f);
        for (float[] part : partial) {
            for (int j = 0; j < out; j++) {
                sums[j] += part[j];
            }
        }
    }

    /** Row {@code i}'s terms {@code dy·s·z} of the slope gradient, 0 where dropped or {@code z > 0}, into acc. */
    private void addSlopeTerms(int i, float[] acc) {
        int at = i * out;
        long e0 = (long) i * out;
        for (int j = 0; j < out; j += VectorPhilox.SPAN) {
            int run = Math.min(VectorPhilox.SPAN, out - j);
            long keep = philox == null ? -1L : philox.keepBits(e0 + j, run);
            for (int c = 0; c < run; c += L) {
                int e = at + j + c;
                VectorMask<Float> in = S.indexInRange(c, run);
                FloatVector zz = FloatVector.fromArray(S, z, e, in);
                FloatVector term = FloatVector.fromArray(S, dy, e, in).mul(scale).mul(zz)
                        .blend(0f, zz.compare(VectorOperators.GT, 0f));
                if (philox != null) {
                    term = FloatVector.zero(S).blend(term, VectorMask.fromLong(S, keep >>> c));
                }
                FloatVector.fromArray(S, acc, j + c, in).add(term).intoArray(acc, j + c, in);
            }
        }
    }

    private void row(int i, float[] dz) {
        int at = i * out;
        long e0 = (long) i * out;
        for (int j = 0; j < out; j += VectorPhilox.SPAN) {
            int run = Math.min(VectorPhilox.SPAN, out - j);
            long keep = philox == null ? -1L : philox.keepBits(e0 + j, run);
            for (int c = 0; c < run; c += L) {
                int e = at + j + c;
                VectorMask<Float> in = S.indexInRange(c, run);
                FloatVector g = FloatVector.fromArray(S, dy, e, in).mul(scale);
                FloatVector r = switch (act) {
                    case RELU -> g.blend(0f, FloatVector.fromArray(S, y, e, in).compare(VectorOperators.LE, 0f));
                    case LEAKY_RELU -> g.mul(alpha).blend(g, FloatVector.fromArray(S, y, e, in)
                            .compare(VectorOperators.GT, 0f));
                    case GELU -> g.mul(geluDerivative(FloatVector.fromArray(S, z, e, in)));
                    case IDENTITY -> g;
                    case ELU -> g.mul(eluDerivative(FloatVector.fromArray(S, z, e, in)));
                    case PRELU -> g.mul(FloatVector.fromArray(S, slope, j + c, in))
                            .blend(g, FloatVector.fromArray(S, z, e, in).compare(VectorOperators.GT, 0f));
                };
                if (philox != null) {
                    r = FloatVector.zero(S).blend(r, VectorMask.fromLong(S, keep >>> c));
                }
                r.intoArray(dz, e, in);
            }
        }
    }

    /**
     * ELU's derivative, as {@link Epilogue#dz} takes it, in lanes: {@code α·eᶻ} where {@code z <= 0}, else 1 (so
     * also for NaN).
     */
    private FloatVector eluDerivative(FloatVector zz) {
        return FloatVector.broadcast(S, 1f).blend(VectorMath.exp(zz).mul(alpha),
                zz.compare(VectorOperators.LE, 0f));
    }

    /** The tanh-form GELU's derivative, as {@link Epilogue#geluDerivative} computes it, in lanes. */
    private static FloatVector geluDerivative(FloatVector zz) {
        FloatVector z2 = zz.mul(zz);
        FloatVector t = VectorMath.tanh(z2.mul(zz).mul(Epilogue.GELU_A).add(zz).mul(Epilogue.GELU_C));
        FloatVector du = z2.mul(3f * Epilogue.GELU_A).add(1f).mul(Epilogue.GELU_C);
        return t.add(1f).mul(0.5f).add(zz.mul(0.5f).mul(t.mul(t).neg().add(1f)).mul(du));
    }
}
