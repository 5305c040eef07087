package dev.fuse4j.kernels;

/**
 * How a backward GEMM splits its K (the batch for dw, the layer's outputs for dx) across work-groups when its output
 * has too few tiles to keep the device busy: dw of a tall batch is 256 × 256 outputs summed over 65536 rows, four
 * tiles of 128 × 128 on a GPU with over a hundred compute units. Each slice writes a partial output and
 * {@code sum_slices} adds them in order, so the result does not depend on timing. One rule for both GPU backends.
 *
 * @param slices work-groups along K (1: no split)
 * @param chunk  the K each slice covers, a whole number of the kernel's K steps (the last slice may cover less)
 */
public record SplitK(int slices, int chunk) {
    /** Every compute unit should get about this many work-groups. */
    static final int GROUPS_PER_UNIT = 2;
    /** A slice covers at least this much K and this many K steps, so its partial sums are worth their traffic. */
    static final int MIN_SLICE_K = 256;
    static final int MIN_SLICE_STEPS = 8;
    static final int MAX_SLICES = 64;

    /**
     * The split of a product with {@code tiles} output tiles over {@code k} on {@code computeUnits} units, for a
     * kernel that stages {@code stepK} of K at a time.
     */
    public static SplitK plan(long tiles, int computeUnits, int k, int stepK) {
        long wanted = Math.ceilDiv((long) GROUPS_PER_UNIT * computeUnits, Math.max(1, tiles));
        long byK = k / Math.max(MIN_SLICE_K, (long) MIN_SLICE_STEPS * stepK);
        int slices = (int) Math.max(1, Math.min(Math.min(wanted, byK), MAX_SLICES));
        if (slices == 1) {
            return new SplitK(1, k);
        }
        int chunk = Math.ceilDiv(Math.ceilDiv(k, slices), stepK) * stepK; // whole K steps: no step straddles slices
        return new SplitK(Math.ceilDiv(k, chunk), chunk);
    }

    public boolean split() {
        return slices > 1;
    }
}
