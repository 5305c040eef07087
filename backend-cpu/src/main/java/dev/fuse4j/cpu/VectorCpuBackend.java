package dev.fuse4j.cpu;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.spi.LinearShape;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.util.Arrays;

import static dev.fuse4j.cpu.PackedGemm.L;
import static dev.fuse4j.cpu.PackedGemm.S;

/**
 * The fast CPU path: packed, register-blocked GEMMs on the Vector API ({@link PackedGemm}) with the epilogue fused
 * into the forward's stores ({@link TileEpilogue}), {@code dz} formed while packing the backward operands
 * ({@link DzSource}), and Philox in vector lanes ({@link VectorPhilox}), across all cores ({@link WorkerPool}).
 */
final class VectorCpuBackend extends CpuBackend {

    /** Elements per task of the mask op: big enough to amortise a task, small enough to spread. */
    private static final int MASK_CHUNK = 1 << 14;

    private final WorkerPool pool;
    private final PackedGemm gemm;

    VectorCpuBackend(String name, int threads) {
        super(name);
        this.pool = new WorkerPool(threads);
        this.gemm = new PackedGemm(pool);
    }

    @Override
    public String device() {
        return "Java Vector API, " + S.vectorBitSize() + "-bit (" + L + " floats), " + pool.threads() + " threads, "
                + System.getProperty("os.arch");
    }

    @Override
    protected void forward(LinearShape s, CpuTensor x, CpuTensor w, CpuTensor b, Activation act, Dropout d,
                           CpuTensor y, CpuTensor z) {
        TileEpilogue ep = new TileEpilogue(b.data, act, d, z == null ? null : z.data, s.out());
        gemm.multiply(s.n(), s.out(), s.in(), Operands.rowsOf(x.data, s.in()),
                Operands.columnsOfTransposed(w.data, s.in()), y.data, ep);
    }

    @Override
    protected void backward(LinearShape s, CpuTensor dy, CpuTensor x, CpuTensor w, CpuTensor y, CpuTensor z,
                            Activation act, Dropout d, CpuTensor dx, CpuTensor dw, CpuTensor db) {
        int n = s.n(), in = s.in(), out = s.out();
        DzSource dz = new DzSource(dy.data, y.data, z == null ? null : z.data, out, act, d);
        gemm.multiply(n, in, out, Operands.dzRows(dz), Operands.columnsOf(w.data, in), dx.data, null);
        gemm.multiply(out, in, n, Operands.dzColumns(dz), Operands.columnsOf(x.data, in), dw.data, null);
        biasGradient(dz, n, out, db.data);
    }

    /** {@code db[j] = Σ_i dz[i][j]}: rows split across threads, partial sums added in a fixed order. */
    private void biasGradient(DzSource dz, int n, int out, float[] db) {
        int parts = Math.min(pool.threads(), n);
        float[][] partial = new float[parts][out];
        pool.parallelFor(parts, p -> {
            int from = (int) ((long) n * p / parts);
            int to = (int) ((long) n * (p + 1) / parts);
            float[] acc = partial[p];
            float[] row = dz.buffer(out);
            for (int i = from; i < to; i++) {
                dz.row(i, 0, out, row);
                int j = 0;
                for (; j <= out - L; j += L) {
                    FloatVector.fromArray(S, acc, j).add(FloatVector.fromArray(S, row, j)).intoArray(acc, j);
                }
                for (; j < out; j++) {
                    acc[j] += row[j];
                }
            }
        });
        Arrays.fill(db, 0f);
        for (float[] part : partial) {
            for (int j = 0; j < out; j++) {
                db[j] += part[j];
            }
        }
    }

    @Override
    protected void mask(int rows, int cols, Dropout d, CpuTensor out) {
        float[] m = out.data;
        if (!d.training()) {
            Arrays.fill(m, 1f);
            return;
        }
        int chunks = (m.length + MASK_CHUNK - 1) / MASK_CHUNK;
        pool.parallelFor(chunks, c -> {
            int from = c * MASK_CHUNK;
            int len = Math.min(MASK_CHUNK, m.length - from);
            boolean[] keep = new boolean[len];
            new VectorPhilox(d).keepRun(from, len, keep, 0);
            for (int e = 0; e < len; e++) {
                m[from + e] = keep[e] ? 1f : 0f;
            }
        });
    }

    /** Touches the Vector API once so a missing or broken module fails at construction, not mid-call. */
    static void selfCheck() {
        FloatVector v = FloatVector.broadcast(S, 2f).lanewise(VectorOperators.TANH);
        if (!(v.lane(0) > 0.96f && v.lane(0) < 0.97f)) {
            throw new IllegalStateException("Vector API self-check gave tanh(2) = " + v.lane(0));
        }
    }
}
