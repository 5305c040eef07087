package dev.fuse4j.opencl;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.kernels.ElementwiseKernels;
import dev.fuse4j.kernels.GpuGemm;
import dev.fuse4j.kernels.KernelResources;
import dev.fuse4j.kernels.Scratch;
import dev.fuse4j.kernels.SplitK;
import dev.fuse4j.spi.LinearShape;
import org.jocl.cl_mem;

import java.util.ArrayList;
import java.util.List;

/**
 * The GEMM kernel of {@code fused_linear.cl}, built once per tile tier for one device, and the launch policy: the
 * largest tier that still gives every compute unit a work-group, else the smallest (a 128×784→512 layer is 4 tiles
 * of 128×128 on a GPU with over a hundred compute units); backward products of few tiles over a long K split K
 * ({@link SplitK}) into scratch buffers that {@code sum_slices} adds up. Each method queues its work in the open
 * call.
 */
final class ClGemm implements GpuGemm<cl_mem> {
    /** The kernel's {@code mode}: which product it computes. */
    private static final int MODE_FORWARD = 0;
    private static final int MODE_DX = 1;
    private static final int MODE_DW = 2;
    private static final System.Logger LOG = System.getLogger(ClGemm.class.getName());

    /** A tile tier and its program. */
    private record Tier(TileConfig tiles, ClProgramCache.Built program) {
    }

    private final ClDevice dev;
    private final ElementwiseKernels<cl_mem> elementwise;
    private final List<Tier> tiers;
    /** Partial outputs of split-K launches. */
    private final Scratch<cl_mem> partialC;
    private final Scratch<cl_mem> partialDb;

    /**
     * Builds the first two of {@code candidates} (largest first) whose kernels allow their work-group size here: a
     * large tier and a small one cover big and small layers. A single candidate forces that tier.
     */
    ClGemm(ClDevice dev, List<TileConfig> candidates, ElementwiseKernels<cl_mem> elementwise) {
        this.dev = dev;
        this.elementwise = elementwise;
        List<Tier> built = new ArrayList<>();
        for (TileConfig t : candidates) {
            ClProgramCache.Built program = dev.programs.get(KernelResources.FUSED_LINEAR_CL, t.buildOptions(),
                    List.of("gemm"));
            long limit = dev.programs.workGroupLimit(program.kernel("gemm"));
            if (limit < t.workGroupSize()) {
                // The compiler may allow fewer work-items than the device (register pressure): skip that tier.
                LOG.log(System.Logger.Level.DEBUG, "OpenCL GEMM tiles {0} skipped on {1}: the kernel allows {2} "
                        + "work-items per group", t, dev.info.name(), limit);
                continue;
            }
            built.add(new Tier(t, program));
            if (built.size() == 2) {
                break;
            }
        }
        if (built.isEmpty()) {
            throw new IllegalStateException("no GEMM tile tier of " + candidates + " builds with a usable "
                    + "work-group size on " + dev.info.name());
        }
        this.tiers = List.copyOf(built);
        this.partialC = new Scratch<>(dev::allocate, dev::free);
        this.partialDb = new Scratch<>(dev::allocate, dev::free);
        LOG.log(System.Logger.Level.DEBUG, "OpenCL GEMM tiles on {0}: {1}", dev.info.name(), describe());
    }

    @Override
    public void giveBackScratch() {
        partialC.giveBack();
        partialDb.giveBack();
    }

    @Override
    public String describe() {
        return String.join(" / ", tiers.stream().map(t -> t.tiles().toString()).toList());
    }

    @Override
    public void forward(LinearShape s, cl_mem x, cl_mem w, cl_mem b, cl_mem y, cl_mem zOut, Activation act, Dropout d) {
        Tier tier = pick(s.n(), s.out());
        gemm(tier, MODE_FORWARD, s.n(), s.out(), s.in(), s.in()).buffer(x).buffer(w).buffer(y).buffer(b).buffer(zOut)
                .buffer(null).buffer(null).buffer(null).buffer(null) // dy, y, z, db: backward's
                .buffer(null) // no statistics
                .activation(act).dropout(d).weightMask(d).run(global(tier.tiles(), s.n(), s.out(), 1), local(tier.tiles()));
    }

    /**
     * The forward launch with the identity and no dropout, and the statistics epilogue on. Forward never splits K
     * (its output has a tile per row tile and column tile, and each tile's sums need the whole K), so the tier
     * {@link #forward} picks is the one tier this call can use.
     */
    @Override
    public void forwardWithStatistics(LinearShape s, cl_mem x, cl_mem w, cl_mem b, cl_mem z, cl_mem part) {
        Tier tier = pick(s.n(), s.out());
        Dropout eval = Dropout.eval();
        gemm(tier, MODE_FORWARD, s.n(), s.out(), s.in(), s.in()).buffer(x).buffer(w).buffer(z).buffer(b).buffer(null)
                .buffer(null).buffer(null).buffer(null).buffer(null) // dy, y, z, db: backward's
                .buffer(part).activation(Activation.identity()).dropout(eval).weightMask(eval)
                .run(global(tier.tiles(), s.n(), s.out(), 1), local(tier.tiles()));
    }

    @Override
    public int statisticsRows(LinearShape s) {
        return pick(s.n(), s.out()).tiles().bm();
    }

    @Override
    public void dx(LinearShape s, cl_mem dy, cl_mem y, cl_mem z, cl_mem w, cl_mem dx, Activation act, Dropout d) {
        int m = s.n(), n = s.in(), k = s.out();
        Tier tier = pick(m, n);
        SplitK split = split(tier, m, n, k);
        cl_mem c = split.split() ? partialC.atLeast((long) split.slices() * m * n) : dx;
        gemm(tier, MODE_DX, m, n, k, split.chunk()).buffer(null).buffer(w).buffer(c) // a: dz, formed from dy, y, z
                .buffer(null).buffer(null).buffer(dy).buffer(y).buffer(z).buffer(null) // no bias, z output or db
                .buffer(null) // no statistics
                .activation(act).dropout(d).weightMask(d).run(global(tier.tiles(), m, n, split.slices()), local(tier.tiles()));
        if (split.split()) {
            elementwise.sumSlices(split.slices(), (long) m * n, c, dx);
        }
    }

    /** dw and db in one product: db as the row sums of dzᵀ, summed in the A tiles of the first column of groups. */
    @Override
    public void dw(LinearShape s, cl_mem dy, cl_mem y, cl_mem z, cl_mem x, cl_mem dw, cl_mem db, Activation act,
            Dropout d) {
        int m = s.out(), n = s.in(), k = s.n();
        Tier tier = pick(m, n);
        SplitK split = split(tier, m, n, k);
        cl_mem c = split.split() ? partialC.atLeast((long) split.slices() * m * n) : dw;
        cl_mem rowSums = split.split() ? partialDb.atLeast((long) split.slices() * m) : db;
        gemm(tier, MODE_DW, m, n, k, split.chunk()).buffer(null).buffer(x).buffer(c) // a: dzᵀ, formed from dy, y, z
                .buffer(null).buffer(null).buffer(dy).buffer(y).buffer(z).buffer(rowSums) // no bias or z output
                .buffer(null) // no statistics
                .activation(act).dropout(d).weightMask(d).run(global(tier.tiles(), m, n, split.slices()), local(tier.tiles()));
        if (split.split()) {
            elementwise.sumSlices(split.slices(), (long) m * n, c, dw);
            elementwise.sumSlices(split.slices(), m, rowSums, db);
        }
    }

    /**
     * A launch of {@code gemm} computing {@code C[m × n]} over {@code k} in {@code mode}, each work-group slice
     * covering {@code kChunk} of K; its buffers follow: a, b, c, bias, zout, dy, y, z, db, part (null where unused).
     */
    private ClLaunch gemm(Tier tier, int mode, int m, int n, int k, int kChunk) {
        return new ClLaunch(dev, tier.program().kernel("gemm")).i32(mode).i32(m).i32(n).i32(k).i32(kChunk);
    }

    /** The tier for an {@code m × n} output. */
    private Tier pick(int m, int n) {
        for (Tier t : tiers) {
            if (t.tiles().tiles(m, n) >= dev.info.computeUnits()) {
                return t;
            }
        }
        return tiers.get(tiers.size() - 1);
    }

    private SplitK split(Tier tier, int m, int n, int k) {
        return SplitK.plan(tier.tiles().tiles(m, n), dev.info.computeUnits(), k, tier.tiles().bk());
    }

    private static long[] global(TileConfig t, int m, int n, int slices) {
        return new long[] {(long) Math.ceilDiv(n, t.bn()) * t.wx(), (long) Math.ceilDiv(m, t.bm()) * t.wy(), slices};
    }

    private static long[] local(TileConfig t) {
        return new long[] {t.wx(), t.wy(), 1};
    }
}
