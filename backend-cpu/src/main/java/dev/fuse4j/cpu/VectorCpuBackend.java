package dev.fuse4j.cpu;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.spi.LinearShape;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import java.util.Arrays;

import static dev.fuse4j.cpu.Tuning.L;
import static dev.fuse4j.cpu.Tuning.S;

/**
 * The fast CPU path: packed, register-blocked GEMMs on the Vector API ({@link PackedGemm}) with the epilogue fused
 * into the forward's stores ({@link TileEpilogue}), the backward's {@code dz} formed once per call with db
 * ({@link BackwardDz}), and Philox in vector lanes ({@link VectorPhilox}), across all cores ({@link WorkerPool}).
 * W's packed forms are kept on the tensor between calls ({@link PackedCache}). The microkernel and blocking come
 * from {@link Tuning}; the threads from a {@link WorkerPool} that every backend of the process shares.
 */
final class VectorCpuBackend extends CpuBackend {

    /** Elements per task of the mask op: big enough to amortise a task, small enough to spread. */
    private static final int MASK_CHUNK = 1 << 14;
    /** Rows of z per task of the statistics pass (whole micro-panel groups). */
    private static final int STATISTICS_ROWS_PER_TASK = 64;

    /** Elements per task of {@link #adam(AdamUpdate, int)}: a multiple of every vector length. */
    static final int ADAM_CHUNK = 1 << 15;
    private final WorkerPool pool;
    private final Tuning.Blocking blocking;
    private final PackedGemm gemm;
    private final KernelWarmup warmup;
    /** The backward's dz, formed once per call and read by both products. */
    private final ReusableBuffer dzBuffer = new ReusableBuffer();
    /** Batch norm's backward: {@code u = γ·x̂ + β}, recomputed from z for the activation's derivative. */
    private final ReusableBuffer uBuffer = new ReusableBuffer();

    /** Large calls wait for {@code warmup} to finish ({@link KernelWarmup#awaitBefore}). */
    VectorCpuBackend(String name, WorkerPool pool, Tuning.Blocking blocking, KernelWarmup warmup) {
        super(name);
        this.pool = pool;
        this.blocking = blocking;
        this.gemm = new PackedGemm(pool, blocking);
        this.warmup = warmup;
    }

    @Override
    public String device() {
        return "Java Vector API, " + Tuning.describe(blocking) + ", " + pool.threads() + " threads, "
                + System.getProperty("os.arch");
    }

    @Override
    protected void forward(LinearShape s, CpuTensor x, CpuTensor w, CpuTensor b, Activation act, Dropout d,
                           CpuTensor y, CpuTensor z) {
        warmup.awaitBefore(s.flops());
        float[] wp = d.dropConnect()
                ? maskedWeights(s.out(), s.in(), new VectorDropConnect(d, s.in()).forwardB(w.data))
                : packedWeights(w, PackedCache.FORWARD, s.out(), s.in(), Operands.rowsOf(w.data, s.in()));
        forward(s, x.data, wp, b.data, act, d.onOutputs(), y.data, z == null ? null : z.data);
    }

    /** The forward on arrays, with w already packed by {@link #packWeights}{@code (forward = true)}. */
    void forward(LinearShape s, float[] x, float[] wPacked, float[] b, Activation act, Dropout d, float[] y,
                 float[] z) {
        TileEpilogue ep = new TileEpilogue(b, act, d, z, s.out());
        gemm.multiplyPacked(s.n(), s.out(), s.in(), Operands.rowsOf(x, s.in()), wPacked, y, ep);
    }

    /**
     * Pass 1 of batch norm: the identity layer, whose epilogue adds each finished row of a tile, still in L1, to its
     * micro-panel's partial sums ({@link GroupStatistics}), merged in micro-panel order once the GEMM is done.
     */
    @Override
    protected void linearStatistics(LinearShape s, CpuTensor x, CpuTensor w, CpuTensor b, CpuTensor z,
                                    CpuTensor stats) {
        warmup.awaitBefore(s.flops());
        float[] wp = packedWeights(w, PackedCache.FORWARD, s.out(), s.in(), Operands.rowsOf(w.data, s.in()));
        GroupStatistics sums = new GroupStatistics(s.n(), s.out(), blocking.kernel().rows(), z.data);
        TileEpilogue bias = new TileEpilogue(b.data, Activation.identity(), Dropout.eval(), null, s.out());
        gemm.multiplyPacked(s.n(), s.out(), s.in(), Operands.rowsOf(x.data, s.in()), wp, z.data,
                (tile, t, i, j0, cols) -> {
                    bias.apply(tile, t, i, j0, cols);
                    sums.addRow(tile, t, i, j0, cols);
                });
        sums.mergeInto(stats.data);
    }

    /** The same partial sums and merge as {@link #linearStatistics}, over z's groups in tasks: the same bits. */
    @Override
    protected void batchNormStatistics(int n, int out, CpuTensor z, CpuTensor stats) {
        int rows = blocking.kernel().rows();
        GroupStatistics sums = new GroupStatistics(n, out, rows, z.data);
        int groups = sums.groups();
        int perTask = Math.max(1, STATISTICS_ROWS_PER_TASK / rows);
        pool.parallelFor((groups + perTask - 1) / perTask,
                t -> sums.addGroups(t * perTask, Math.min(groups, (t + 1) * perTask)));
        sums.mergeInto(stats.data);
    }

    @Override
    protected void batchNormForward(int n, int out, CpuTensor z, CpuTensor stats, CpuTensor gamma, CpuTensor beta,
                                    float eps, Activation act, Dropout d, CpuTensor y) {
        new VectorBatchNorm(pool, n, out, z.data, stats.data, gamma.data, eps).forward(beta.data, act, d, y.data);
    }

    @Override
    protected void batchNormBackward(int n, int out, CpuTensor dy, CpuTensor y, CpuTensor z, CpuTensor stats,
                                     CpuTensor gamma, CpuTensor beta, float eps, Activation act, Dropout d,
                                     CpuTensor dz, CpuTensor dgamma, CpuTensor dbeta) {
        new VectorBatchNorm(pool, n, out, z.data, stats.data, gamma.data, eps).backward(dy.data, y.data, beta.data,
                act, d, uBuffer.get(n * out), dz.data, dgamma.data, dbeta.data);
    }

    /** W {@code [out×in]} packed as the B operand of the forward ({@code wᵀ}) or of the backward's dx ({@code w}). */
    float[] packWeights(LinearShape s, float[] w, boolean forward) {
        float[] bp = new float[forward ? gemm.packedSize(s.out(), s.in()) : gemm.packedSize(s.in(), s.out())];
        if (forward) {
            gemm.pack(s.out(), s.in(), Operands.rowsOf(w, s.in()), bp);
        } else {
            gemm.pack(s.in(), s.out(), Operands.columnsOf(w, s.in()), bp);
        }
        return bp;
    }

    /**
     * W packed with DropConnect's mask by {@code packer}, into the calling thread's scratch: never into the tensor's
     * {@link PackedCache}, whose copies serve calls without a mask or with another one.
     */
    private float[] maskedWeights(int n, int k, PackedGemm.Packer packer) {
        float[] bp = gemm.scratchB(gemm.packedSize(n, k));
        gemm.pack(n, k, packer, bp);
        return bp;
    }

    /**
     * W packed as the B operand of a product with {@code n} columns and depth {@code k}: the copy kept on the
     * tensor when there is one, else packed now (into a copy to keep from the second use at the same version on).
     */
    private float[] packedWeights(CpuTensor w, int layout, int n, int k, PackedGemm.Packer packer) {
        int size = gemm.packedSize(n, k);
        float[] kept = w.packs.lookup(layout, size);
        if (kept != null) {
            return kept;
        }
        int version = w.packs.version();
        float[] fresh = w.packs.claim(layout, size);
        float[] bp = fresh != null ? fresh : gemm.scratchB(size);
        gemm.pack(n, k, packer, bp);
        if (fresh != null) {
            w.packs.keep(layout, version, fresh);
        }
        return bp;
    }

    @Override
    protected void backward(LinearShape s, CpuTensor dy, CpuTensor x, CpuTensor w, CpuTensor y, CpuTensor z,
                            Activation act, Dropout d, CpuTensor dx, CpuTensor dw, CpuTensor db) {
        warmup.awaitBefore(2 * s.flops());
        float[] wp = dx == null ? null
                : d.dropConnect() ? maskedWeights(s.in(), s.out(), new VectorDropConnect(d, s.in()).dxB(w.data))
                : packedWeights(w, PackedCache.BACKWARD, s.in(), s.out(), Operands.columnsOf(w.data, s.in()));
        backward(s, dy.data, x.data, wp, y.data, z == null ? null : z.data, act, d, dx == null ? null : dx.data,
                dw.data, db.data);
    }

    /**
     * The backward on arrays, with w packed by {@link #packWeights}{@code (forward = false)}; {@code dx} and
     * {@code wPacked} are null when dx is not wanted. With DropConnect, {@code wPacked} holds the masked weights
     * ({@link VectorDropConnect#dxB}) and dw is masked as it is stored.
     */
    void backward(LinearShape s, float[] dy, float[] x, float[] wPacked, float[] y, float[] z, Activation act,
                  Dropout d, float[] dx, float[] dw, float[] db) {
        int n = s.n(), in = s.in(), out = s.out();
        float[] dz = dzBuffer.get(n * out);
        new BackwardDz(dy, y, z, out, act, d.onOutputs()).formInto(dz, db, n, pool);
        if (dx != null) {
            gemm.multiplyPacked(n, in, out, Operands.rowsOf(dz, out), wPacked, dx, null);
        }
        PackedGemm.StoreEpilogue dwMask = d.dropConnect() ? new VectorDropConnect(d, in).gradient() : null;
        gemm.multiply(out, in, n, Operands.columnsOf(dz, out), Operands.columnsOf(x, in), dw, dwMask);
    }

    @Override
    protected void slopeGradient(LinearShape s, CpuTensor dy, CpuTensor z, Dropout d, CpuTensor da) {
        new BackwardDz(dy.data, null, z.data, s.out(), Activation.prelu(), d).slopeGradientInto(da.data, s.n(), pool);
    }

    @Override
    protected void mask(int rows, int cols, Dropout d, CpuTensor out) {
        float[] m = out.data;
        if (!d.training()) {
            Arrays.fill(m, 1f);
            return;
        }
        VectorPhilox philox = d.dropConnect() ? VectorPhilox.weights(d) : new VectorPhilox(d);
        FloatVector ones = FloatVector.broadcast(S, 1f);
        overMask(m.length, philox, (e, l, kept, in) -> FloatVector.zero(S).blend(ones, kept).intoArray(m, e + l, in));
    }

    /** What to do with the vector of elements {@code e + l ..}: {@code kept} their mask, {@code in} those that exist. */
    @FunctionalInterface
    private interface MaskedVector {
        void apply(int e, int l, VectorMask<Float> kept, VectorMask<Float> in);
    }

    /**
     * Adam in vectors ({@link VectorAdam}), over the pool in chunks of {@value #ADAM_CHUNK} elements: the first
     * layer's weights of the default MLP are 401 408.
     */
    @Override
    void adam(AdamUpdate update) {
        overChunks(update.p.length, ADAM_CHUNK, (from, to) -> VectorAdam.run(update, from, to));
    }

    /** Walks the mask of a call's {@code length} elements in vectors, spread over the pool in chunks. */
    private void overMask(int length, VectorPhilox philox, MaskedVector action) {
        overChunks(length, MASK_CHUNK, (from, to) -> {
            for (int e = from; e < to; e += VectorPhilox.SPAN) {
                int run = Math.min(VectorPhilox.SPAN, to - e);
                long keep = philox.keepBits(e, run);
                for (int l = 0; l < run; l += L) {
                    action.apply(e, l, VectorMask.fromLong(S, keep >>> l), S.indexInRange(l, run));
                }
            }
        });
    }

    /** Elements {@code [from, to)} of one chunk. */
    @FunctionalInterface
    private interface Chunk {
        void run(int from, int to);
    }

    /** Runs {@code body} on {@code [0, length)} cut into chunks of {@code chunk} elements, across the pool. */
    private void overChunks(int length, int chunk, Chunk body) {
        pool.parallelFor((length + chunk - 1) / chunk, c -> body.run(c * chunk, Math.min(length, (c + 1) * chunk)));
    }

    @Override
    protected void applyDropout(int rows, int cols, CpuTensor x, Dropout d, CpuTensor out) {
        float[] src = x.data;
        float[] dst = out.data;
        if (!d.training()) {
            System.arraycopy(src, 0, dst, 0, src.length);
            return;
        }
        float scale = d.scale();
        overMask(dst.length, new VectorPhilox(d), (e, l, kept, in) -> FloatVector.zero(S)
                .blend(FloatVector.fromArray(S, src, e + l, in).mul(scale), kept).intoArray(dst, e + l, in));
    }

    /** Touches the Vector API once so a missing or broken module fails at construction, not mid-call. */
    static void selfCheck() {
        FloatVector v = VectorMath.tanh(FloatVector.broadcast(S, 2f));
        if (!(v.lane(0) > 0.96f && v.lane(0) < 0.97f)) {
            throw new IllegalStateException("Vector API self-check gave tanh(2) = " + v.lane(0));
        }
    }
}
