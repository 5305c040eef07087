package dev.fuse4j.cpu;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import static dev.fuse4j.cpu.Tuning.L;
import static dev.fuse4j.cpu.Tuning.S;

/**
 * The forward's epilogue on accumulator vectors: {@code z = acc + b}, optionally stored, then the activation,
 * the dropout scale and the Philox mask, all before the tile is written.
 */
final class TileEpilogue implements PackedGemm.StoreEpilogue {
    private final float[] bias;
    private final Activation.Kind act;
    private final float alpha;
    /** PReLU's slope per column, else null. */
    private final float[] slope;
    private final float scale;
    private final boolean training;
    private final VectorPhilox philox;
    private final float[] z;
    private final int ldc;

    TileEpilogue(float[] bias, Activation act, Dropout d, float[] zOut, int ldc) {
        this.bias = bias;
        this.act = act.kind();
        this.alpha = act.alpha();
        this.slope = CpuTensor.slopes(act);
        this.scale = d.scale();
        this.training = d.training();
        this.philox = training ? new VectorPhilox(d) : null;
        this.z = zOut;
        this.ldc = ldc;
    }

    /**
     * Applies the epilogue in place to one tile row: {@code tile[t .. t+cols)} holds row {@code i}'s sums for
     * columns {@code j0 .. j0+cols-1} ({@code cols} ≤ 64).
     */
    @Override
    public void apply(float[] tile, int t, int i, int j0, int cols) {
        finish(tile, t, i, j0, cols, training ? philox.keepBits((long) i * ldc + j0, cols) : 0L);
    }

    /**
     * In training, where there are masks to draw side by side, and where two rows' spans fit one {@code long}
     * ({@link VectorPhilox#keepBitsOfTwo}): its rows are its own, so C's order does not matter.
     */
    @Override
    public boolean pairsRows() {
        return training && VectorPhilox.SPAN <= 32;
    }

    /**
     * Rows {@code i} and {@code i + 1}, their masks drawn together where a row is at most 32 elements
     * ({@link VectorPhilox#keepBitsOfTwo}).
     */
    @Override
    public void applyTwo(float[] tile, int t0, int t1, int i, int j0, int cols) {
        if (!pairsRows() || cols > VectorPhilox.SPAN) {
            PackedGemm.StoreEpilogue.super.applyTwo(tile, t0, t1, i, j0, cols);
            return;
        }
        long e0 = (long) i * ldc + j0;
        long keep = philox.keepBitsOfTwo(e0, e0 + ldc, cols);
        finish(tile, t0, i, j0, cols, keep);
        finish(tile, t1, i + 1, j0, cols, keep >>> VectorPhilox.SPAN);
    }

    /** The epilogue of row {@code i}'s {@code cols} sums at {@code tile[t ..]}, {@code keep} its mask's bits. */
    private void finish(float[] tile, int t, int i, int j0, int cols, long keep) {
        for (int c = 0; c < cols; c += L) {
            boolean whole = c + L <= cols;
            VectorMask<Float> m = S.indexInRange(c, cols);
            int j = j0 + c;
            FloatVector zz = FloatVector.fromArray(S, tile, t + c)
                    .add(whole ? FloatVector.fromArray(S, bias, j) : FloatVector.fromArray(S, bias, j, m));
            if (z != null) {
                if (whole) {
                    zz.intoArray(z, i * ldc + j);
                } else {
                    zz.intoArray(z, i * ldc + j, m);
                }
            }
            FloatVector y = act == Activation.Kind.PRELU
                    ? prelu(zz, whole ? FloatVector.fromArray(S, slope, j) : FloatVector.fromArray(S, slope, j, m))
                    : activate(zz);
            if (training) {
                y = FloatVector.zero(S).blend(y.mul(scale), VectorMask.fromLong(S, keep >>> c));
            }
            y.intoArray(tile, t + c);
        }
    }

    private FloatVector activate(FloatVector zz) {
        return switch (act) {
            case RELU -> zz.max(0f);
            case LEAKY_RELU -> zz.blend(zz.mul(alpha), zz.compare(VectorOperators.LE, 0f));
            case GELU -> gelu(zz);
            case IDENTITY -> zz;
            case ELU -> zz.blend(VectorMath.expm1(zz).mul(alpha), zz.compare(VectorOperators.LE, 0f));
            case PRELU -> throw new IllegalStateException("PReLU's slopes are per column: see prelu");
        };
    }

    /** PReLU with the slopes {@code a} of the lanes' columns: {@code a·z} where {@code z > 0} fails. */
    private static FloatVector prelu(FloatVector zz, FloatVector a) {
        return zz.blend(zz.mul(a), zz.compare(VectorOperators.LE, 0f));
    }

    static FloatVector gelu(FloatVector zz) {
        FloatVector u = zz.mul(zz).mul(zz).mul(Epilogue.GELU_A).add(zz).mul(Epilogue.GELU_C);
        return zz.mul(0.5f).mul(VectorMath.tanh(u).add(1f));
    }
}
