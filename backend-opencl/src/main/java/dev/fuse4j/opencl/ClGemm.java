package dev.fuse4j.opencl;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

import java.util.ArrayList;
import java.util.List;

/**
 * The GEMM kernel of {@code fused_linear.cl} built once per tile tier for one device, and the choice of tier per
 * launch: the largest tier that still gives every compute unit a work-group, else the smallest (a 128×784→512
 * layer is 4 tiles of 128×128 on a GPU with over a hundred compute units). Backward launches whose output has too
 * few tiles for the device and a long K (dw of a tall batch: 256×256 outputs summed over 65536 rows) split K
 * across work-groups into a scratch buffer and add the slices up after.
 */
final class ClGemm {
    static final String SOURCE = "fused_linear.cl";
    static final int MODE_FORWARD = 0;
    static final int MODE_DX = 1;
    static final int MODE_DW = 2;
    private static final System.Logger LOG = System.getLogger("dev.fuse4j");

    /** A slice of K gets at least this many BK steps, so the partial sums are worth their traffic. */
    private static final int MIN_STEPS_PER_SLICE = 8;
    private static final int MAX_SLICES = 64;

    private record Tier(TileConfig tiles, cl_kernel kernel, cl_kernel sumSlices) {
    }

    private final ClDevice dev;
    private final List<Tier> tiers;
    /** Partial outputs of split-K launches; grown (never shrunk) under the device lock. */
    private final ClScratch partialC;
    private final ClScratch partialDb;

    ClGemm(ClDevice dev) {
        this.dev = dev;
        List<Tier> built = new ArrayList<>();
        for (TileConfig t : TileConfig.tiersFor(dev.info)) {
            ClProgramCache.Built program = dev.programs.get(SOURCE, t.buildOptions(), List.of("gemm", "sum_slices"));
            cl_kernel k = program.kernel("gemm");
            long limit = dev.programs.workGroupLimit(k);
            if (limit < t.workGroupSize()) {
                // The compiler may allow fewer work-items than the device (register pressure): skip that tier.
                LOG.log(System.Logger.Level.DEBUG, "OpenCL GEMM tiles {0} skipped on {1}: the kernel allows {2} "
                        + "work-items per group", t, dev.info.name(), limit);
                continue;
            }
            built.add(new Tier(t, k, program.kernel("sum_slices")));
            if (built.size() == 2) {
                break; // a large tier and a small one are enough to cover big and small layers
            }
        }
        if (built.isEmpty()) {
            throw new IllegalStateException("no GEMM tile tier builds with a usable work-group size on "
                    + dev.info.name());
        }
        this.tiers = List.copyOf(built);
        this.partialC = new ClScratch(dev);
        this.partialDb = new ClScratch(dev);
        LOG.log(System.Logger.Level.DEBUG, "OpenCL GEMM tiles on {0}: {1}", dev.info.name(), describe());
    }

    String describe() {
        return String.join(" / ", tiers.stream().map(t -> t.tiles().toString()).toList());
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

    /**
     * Enqueues {@code C[m × n] = A[m × k]·B[k × n]} in {@code mode}; the caller holds the device lock. Unused
     * buffers may be {@code dev.unused}.
     */
    void enqueue(int mode, int m, int n, int k, cl_mem a, cl_mem b, cl_mem c, cl_mem bias, cl_mem zOut,
                 boolean storeZ, cl_mem dy, cl_mem y, cl_mem z, cl_mem db, Activation act, Dropout d) {
        Tier tier = pick(m, n);
        TileConfig t = tier.tiles();
        int slices = mode == MODE_FORWARD ? 1 : slices(t, m, n, k);
        int kChunk = (k + slices - 1) / slices;
        kChunk = (kChunk + t.bk() - 1) / t.bk() * t.bk(); // whole BK steps, so no tile straddles two slices
        slices = (k + kChunk - 1) / kChunk;
        cl_mem cOut = c;
        cl_mem dbOut = db;
        if (slices > 1) {
            cOut = partialC.atLeast((long) slices * m * n);
            dbOut = mode == MODE_DW ? partialDb.atLeast((long) slices * m) : db;
        }
        long[] local = {t.wx(), t.wy(), 1};
        long[] global = {(long) ((n + t.bn() - 1) / t.bn()) * t.wx(), (long) ((m + t.bm() - 1) / t.bm()) * t.wy(),
            slices};
        ClLaunch.run(dev.queue, tier.kernel(), "gemm", global, local, mode, m, n, k, a, b, cOut, bias, zOut,
                storeZ ? 1 : 0, dy, y, z, dbOut, act.kind().ordinal(), act.alpha(), kChunk, d.scale(),
                d.training() ? 1 : 0, d.threshold(), d.seed(), d.offset(), d.elementBase());
        if (slices > 1) {
            sumSlices(tier, m * n, slices, cOut, c);
            if (mode == MODE_DW) {
                sumSlices(tier, m, slices, dbOut, db);
            }
        }
    }

    /** How many K slices a backward launch gets: enough to give each compute unit about two work-groups. */
    private int slices(TileConfig t, int m, int n, int k) {
        long tiles = t.tiles(m, n);
        long wanted = (2L * dev.info.computeUnits() + tiles - 1) / tiles;
        long byK = Math.max(1, k / ((long) MIN_STEPS_PER_SLICE * t.bk()));
        return (int) Math.max(1, Math.min(Math.min(wanted, byK), MAX_SLICES));
    }

    private void sumSlices(Tier tier, int len, int slices, cl_mem parts, cl_mem out) {
        long group = Math.min(64, dev.info.maxWorkGroupSize());
        ClLaunch.run(dev.queue, tier.sumSlices(), "sum_slices", new long[] {(len + group - 1) / group * group},
                new long[] {group}, len, slices, parts, out);
    }
}
