package dev.fuse4j.opencl;

import java.util.ArrayList;
import java.util.List;

/**
 * The geometry of the GEMM kernel in {@code fused_linear.cl}: a {@code wx × wy} work-group computes a
 * {@code bm × bn} tile, each work-item {@code rm} rows of {@code nv} vectors of {@code vn} columns, staging
 * {@code bk} of K at a time in local memory rows padded by {@code pad} floats.
 *
 * <p>GPUs get many small work-items with float4 columns (coalesced loads, padded local rows against bank
 * conflicts); CPU devices get few work-items, each with a block as wide as the device's preferred float vector
 * (PoCL runs a work-group as loops, so what matters there is a register block the vector units can fill).
 */
record TileConfig(int wx, int wy, int rm, int vn, int nv, int bk, int pad) {

    int bm() {
        return wy * rm;
    }

    int bn() {
        return wx * vn * nv;
    }

    int workGroupSize() {
        return wx * wy;
    }

    long localBytes() {
        return 4L * bk * (bm() + pad + bn() + pad);
    }

    boolean fits(long maxWorkGroup, long localMem) {
        return workGroupSize() <= maxWorkGroup && localBytes() <= localMem;
    }

    /** Work-groups needed for an {@code m × n} output. */
    long tiles(int m, int n) {
        return (long) ((m + bm() - 1) / bm()) * ((n + bn() - 1) / bn());
    }

    String buildOptions() {
        return "-DWX=" + wx + " -DWY=" + wy + " -DRM=" + rm + " -DVN=" + vn + " -DNV=" + nv + " -DBK=" + bk
                + " -DPAD=" + pad;
    }

    @Override
    public String toString() {
        return bm() + "x" + bn() + "x" + bk + " (" + wx + "x" + wy + " items of " + rm + "x" + (vn * nv) + ")";
    }

    /** GPU and accelerator tiers, largest first: 128×128 with 8×8 per work-item, then smaller. */
    static final List<TileConfig> GPU = List.of(
            new TileConfig(16, 16, 8, 4, 2, 16, 4),
            new TileConfig(16, 16, 4, 4, 1, 16, 4),
            new TileConfig(8, 8, 4, 4, 1, 8, 4),
            new TileConfig(1, 1, 4, 4, 1, 4, 0));

    /**
     * Tiers for {@code device}, largest first, keeping those its work-group and local-memory limits allow (at least
     * the single-work-item tier survives where 4·4·(4+4)·4 bytes of local memory exist).
     */
    static List<TileConfig> tiersFor(ClDeviceInfo device) {
        List<TileConfig> candidates = device.rank() == ClDeviceInfo.RANK_CPU ? cpu(device.preferredFloatWidth())
                : GPU;
        List<TileConfig> out = new ArrayList<>();
        for (TileConfig c : candidates) {
            if (c.fits(device.maxWorkGroupSize(), device.localMemBytes())) {
                out.add(c);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalStateException("no GEMM tile fits " + device.name() + " (max work-group "
                    + device.maxWorkGroupSize() + ", " + device.localMemBytes() + " bytes of local memory)");
        }
        return List.copyOf(out);
    }

    /**
     * CPU tiers: each work-item an 8-row block of two vectors as wide as the device prefers (16 floats with
     * AVX-512: 16 accumulator registers), a 4×8 group sharing a 64 × 8-vector tile in local memory (which on a CPU
     * is cache). The long K slice of 128 matters on PoCL: 64 ran well behind it (its fully unrolled inner loop
     * spills; docs/performance.md), and fewer barriers mean fewer work-item loop restarts.
     */
    static List<TileConfig> cpu(int preferredFloatWidth) {
        int vn = preferredFloatWidth >= 16 ? 16 : preferredFloatWidth >= 8 ? 8 : 4;
        return List.of(
                new TileConfig(4, 8, 8, vn, 2, 128, 0),
                new TileConfig(1, 1, 4, 4, 1, 4, 0));
    }
}
