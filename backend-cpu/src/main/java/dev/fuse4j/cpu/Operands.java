package dev.fuse4j.cpu;

import jdk.incubator.vector.FloatVector;

import java.util.Arrays;

import static dev.fuse4j.cpu.Tuning.L;
import static dev.fuse4j.cpu.Tuning.S;

/**
 * The two ways an operand of the fused layer's products sits in memory (see {@link PackedGemm.Packer} for the packed
 * layout, where each k step holds a run of consecutive A rows or B columns). Forward: {@code y = x·wᵀ} packs x and w
 * with {@link #rowsOf}; backward: {@code dx = dz·w} packs dz with {@link #rowsOf} and w with {@link #columnsOf},
 * {@code dw = dzᵀ·x} packs both with {@link #columnsOf}.
 */
final class Operands {
    /** Whether this JVM has 256-bit float vectors in hardware (the preferred species is at least that wide). */
    private static final boolean HAS_256_BITS = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;

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
            if (r + 1 < count) {
                int f0 = (first + r) * ld + k0, f1 = f0 + ld;
                for (int kk = 0; kk < kc; kk++) {
                    int o = at + kk * width + r;
                    dst[o] = src[f0 + kk];
                    dst[o + 1] = src[f1 + kk];
                }
                r += 2;
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
     * each packed k step is a copy of part of a source row. The copies are a few floats each (an A micro-panel's 4
     * to 8, a B panel's 16 or 32): written out as vector and scalar moves, since {@code System.arraycopy}'s call cost
     * made this packer 2.2× slower at 4 floats a step and 1.4× at 8 (docs/performance.md, "Hand-offs and shrinking
     * row parts").
     */
    static PackedGemm.Packer columnsOf(float[] src, int ld) {
        return (dst, at, width, first, count, k0, kc) -> {
            // An A micro-panel of 4 or 8 floats is one 128- or 256-bit move per k step; species must be constants
            // for C2 to compile them to single instructions, hence the branches. The 256-bit move only where the
            // machine has such vectors: elsewhere (NEON) the Vector API would emulate it.
            if (count == 4 && width == 4) {
                for (int kk = 0; kk < kc; kk++) {
                    FloatVector.fromArray(FloatVector.SPECIES_128, src, (k0 + kk) * ld + first)
                            .intoArray(dst, at + kk * 4);
                }
                return;
            }
            if (count == width && count > 4 && count < 8) {
                // 5 to 7 floats (the 16-register 6x2 kernel's 6): two 128-bit moves that overlap in the middle.
                int second = count - 4;
                for (int kk = 0; kk < kc; kk++) {
                    int from = (k0 + kk) * ld + first;
                    int o = at + kk * width;
                    FloatVector.fromArray(FloatVector.SPECIES_128, src, from).intoArray(dst, o);
                    FloatVector.fromArray(FloatVector.SPECIES_128, src, from + second).intoArray(dst, o + second);
                }
                return;
            }
            if (count == 8 && width == 8 && HAS_256_BITS) {
                for (int kk = 0; kk < kc; kk++) {
                    FloatVector.fromArray(FloatVector.SPECIES_256, src, (k0 + kk) * ld + first)
                            .intoArray(dst, at + kk * 8);
                }
                return;
            }
            int vectors = count - count % L;
            for (int kk = 0; kk < kc; kk++) {
                int o = at + kk * width;
                int from = (k0 + kk) * ld + first;
                int c = 0;
                for (; c < vectors; c += L) {
                    FloatVector.fromArray(S, src, from + c).intoArray(dst, o + c);
                }
                for (; c < count; c++) {
                    dst[o + c] = src[from + c];
                }
                for (; c < width; c++) {
                    dst[o + c] = 0f;
                }
            }
        };
    }
}
