package dev.fuse4j.cpu;

import java.util.Arrays;

/** Packers for the three products of the fused layer (see {@link PackedGemm.Packer} for the layouts). */
final class Operands {
    private Operands() {
    }

    /** A side from a row-major matrix: {@code A(i, k) = src[i·ld + k]}. */
    static PackedGemm.Packer rowsOf(float[] src, int ld) {
        return (dst, at, i0, rows, k0, kc) -> {
            int mr = PackedGemm.MR;
            for (int r = 0; r < rows; r++) {
                int from = (i0 + r) * ld + k0;
                for (int kk = 0; kk < kc; kk++) {
                    dst[at + kk * mr + r] = src[from + kk];
                }
            }
            for (int r = rows; r < mr; r++) {
                for (int kk = 0; kk < kc; kk++) {
                    dst[at + kk * mr + r] = 0f;
                }
            }
        };
    }

    /** B side from a matrix stored transposed, the nn.Linear weight layout: {@code B(k, j) = src[j·ld + k]}. */
    static PackedGemm.Packer columnsOfTransposed(float[] src, int ld) {
        return (dst, at, j0, cols, k0, kc) -> {
            int nr = PackedGemm.NR;
            for (int c = 0; c < cols; c++) {
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

    /** A side for {@code dx = dz·W}: {@code A(i, j) = dz[i][j]}, formed from dy and y while packing. */
    static PackedGemm.Packer dzRows(DzSource dz) {
        return (dst, at, i0, rows, k0, kc) -> {
            int mr = PackedGemm.MR;
            float[] row = dz.buffer(kc);
            for (int r = 0; r < rows; r++) {
                dz.row(i0 + r, k0, kc, row);
                for (int kk = 0; kk < kc; kk++) {
                    dst[at + kk * mr + r] = row[kk];
                }
            }
            for (int r = rows; r < mr; r++) {
                for (int kk = 0; kk < kc; kk++) {
                    dst[at + kk * mr + r] = 0f;
                }
            }
        };
    }

    /** A side for {@code dw = dzᵀ·X}: {@code A(j, i) = dz[i][j]}, formed from dy and y while packing. */
    static PackedGemm.Packer dzColumns(DzSource dz) {
        return (dst, at, j0, rows, i0, kc) -> {
            int mr = PackedGemm.MR;
            float[] seg = dz.buffer(mr);
            for (int kk = 0; kk < kc; kk++) {
                dz.row(i0 + kk, j0, rows, seg);
                int base = at + kk * mr;
                System.arraycopy(seg, 0, dst, base, rows);
                for (int r = rows; r < mr; r++) {
                    dst[base + r] = 0f;
                }
            }
        };
    }
}
