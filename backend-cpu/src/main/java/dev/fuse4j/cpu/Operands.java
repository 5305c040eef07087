package dev.fuse4j.cpu;

import java.util.Arrays;

/**
 * The two ways an operand of the fused layer's products sits in memory (see {@link PackedGemm.Packer} for the packed
 * layout, where each k step holds a run of consecutive A rows or B columns). Forward: {@code y = x·wᵀ} packs x and w
 * with {@link #rowsOf}; backward: {@code dx = dz·w} packs dz with {@link #rowsOf} and w with {@link #columnsOf},
 * {@code dw = dzᵀ·x} packs both with {@link #columnsOf}.
 */
final class Operands {
    private Operands() {
    }

    /**
     * Packed index {@code p} (an A row or a B column) is row {@code p} of {@code src}: element {@code (p, k)} is
     * {@code src[p·ld + k]}. A transpose: several source rows are walked side by side, so each packed k step is
     * written as one run while every source row is still read in order (faster than a row at a time:
     * docs/performance.md).
     */
    static PackedGemm.Packer rowsOf(float[] src, int ld) {
        return (dst, at, width, first, count, k0, kc) -> {
            int r = 0;
            for (; r + 3 < count; r += 4) {
                int f0 = (first + r) * ld + k0, f1 = f0 + ld, f2 = f1 + ld, f3 = f2 + ld;
                for (int kk = 0; kk < kc; kk++) {
                    int o = at + kk * width + r;
                    dst[o] = src[f0 + kk];
                    dst[o + 1] = src[f1 + kk];
                    dst[o + 2] = src[f2 + kk];
                    dst[o + 3] = src[f3 + kk];
                }
            }
            for (; r < count; r++) {
                int from = (first + r) * ld + k0;
                for (int kk = 0; kk < kc; kk++) {
                    dst[at + kk * width + r] = src[from + kk];
                }
            }
            if (count < width) {
                for (int kk = 0; kk < kc; kk++) {
                    Arrays.fill(dst, at + kk * width + count, at + (kk + 1) * width, 0f);
                }
            }
        };
    }

    /**
     * Packed index {@code p} is column {@code p} of {@code src}: element {@code (p, k)} is {@code src[k·ld + p]}, so
     * each packed k step is a copy of part of a source row.
     */
    static PackedGemm.Packer columnsOf(float[] src, int ld) {
        return (dst, at, width, first, count, k0, kc) -> {
            for (int kk = 0; kk < kc; kk++) {
                int o = at + kk * width;
                System.arraycopy(src, (k0 + kk) * ld + first, dst, o, count);
                if (count < width) {
                    Arrays.fill(dst, o + count, o + width, 0f);
                }
            }
        };
    }
}
