package dev.fuse4j.cpu;

import java.util.Arrays;

/**
 * Packers for the three products of the fused layer (see {@link PackedGemm.Packer} for the layouts). The two that
 * transpose walk several source rows side by side, so each packed k step is written as one contiguous run while
 * every source row is still read in order: about twice as fast as one row at a time.
 */
final class Operands {
    private Operands() {
    }

    /** A side from a row-major matrix: {@code A(i, k) = src[i·ld + k]}. */
    static PackedGemm.Packer rowsOf(float[] src, int ld) {
        return (dst, at, i0, rows, k0, kc) -> {
            int mr = PackedGemm.MR;
            if (rows == mr) {
                int f0 = i0 * ld + k0, f1 = f0 + ld, f2 = f1 + ld, f3 = f2 + ld, f4 = f3 + ld, f5 = f4 + ld;
                for (int kk = 0; kk < kc; kk++) {
                    int o = at + kk * mr;
                    dst[o] = src[f0 + kk];
                    dst[o + 1] = src[f1 + kk];
                    dst[o + 2] = src[f2 + kk];
                    dst[o + 3] = src[f3 + kk];
                    dst[o + 4] = src[f4 + kk];
                    dst[o + 5] = src[f5 + kk];
                }
                return;
            }
            for (int r = 0; r < mr; r++) {
                int from = (i0 + r) * ld + k0;
                for (int kk = 0; kk < kc; kk++) {
                    dst[at + kk * mr + r] = r < rows ? src[from + kk] : 0f;
                }
            }
        };
    }

    /** A side from a matrix stored transposed: {@code A(i, k) = src[k·ld + i]} (dzᵀ for {@code dw = dzᵀ·X}). */
    static PackedGemm.Packer rowsOfTransposed(float[] src, int ld) {
        return (dst, at, i0, rows, k0, kc) -> {
            int mr = PackedGemm.MR;
            for (int kk = 0; kk < kc; kk++) {
                int o = at + kk * mr;
                System.arraycopy(src, (k0 + kk) * ld + i0, dst, o, rows);
                if (rows < mr) {
                    Arrays.fill(dst, o + rows, o + mr, 0f);
                }
            }
        };
    }

    /** B side from a matrix stored transposed, the nn.Linear weight layout: {@code B(k, j) = src[j·ld + k]}. */
    static PackedGemm.Packer columnsOfTransposed(float[] src, int ld) {
        return (dst, at, j0, cols, k0, kc) -> {
            int nr = PackedGemm.NR;
            int c = 0;
            for (; c + 4 <= cols; c += 4) {
                int f0 = (j0 + c) * ld + k0, f1 = f0 + ld, f2 = f1 + ld, f3 = f2 + ld;
                for (int kk = 0; kk < kc; kk++) {
                    int o = at + kk * nr + c;
                    dst[o] = src[f0 + kk];
                    dst[o + 1] = src[f1 + kk];
                    dst[o + 2] = src[f2 + kk];
                    dst[o + 3] = src[f3 + kk];
                }
            }
            for (; c < cols; c++) {
                int from = (j0 + c) * ld + k0;
                for (int kk = 0; kk < kc; kk++) {
                    dst[at + kk * nr + c] = src[from + kk];
                }
            }
            if (cols < nr) {
                for (int kk = 0; kk < kc; kk++) {
                    Arrays.fill(dst, at + kk * nr + cols, at + (kk + 1) * nr, 0f);
                }
            }
        };
    }

    /** B side from a row-major matrix: {@code B(k, j) = src[k·ld + j]}. */
    static PackedGemm.Packer columnsOf(float[] src, int ld) {
        return (dst, at, j0, cols, k0, kc) -> {
            int nr = PackedGemm.NR;
            for (int kk = 0; kk < kc; kk++) {
                System.arraycopy(src, (k0 + kk) * ld + j0, dst, at + kk * nr, cols);
                if (cols < nr) {
                    Arrays.fill(dst, at + kk * nr + cols, at + (kk + 1) * nr, 0f);
                }
            }
        };
    }
}
