package dev.fuse4j.cpu;

import dev.fuse4j.Dropout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import static dev.fuse4j.cpu.Tuning.L;
import static dev.fuse4j.cpu.Tuning.S;

/**
 * DropConnect on the vector path: the weight mask ({@link VectorPhilox#weights}) applied to W while it is packed
 * as a product's B operand, and to dW in the store epilogue of its product, so the masked weights never exist as an
 * array. A kept weight is scaled by {@code s = 1/(1 − p)}, a dropped one is 0. Immutable; one per call.
 */
final class VectorDropConnect {
    private final VectorPhilox philox;
    private final float scale;
    /** Columns of W: weight element {@code (o, c)} is {@code k = o·in + c}. */
    private final int in;

    VectorDropConnect(Dropout d, int in) {
        this.philox = VectorPhilox.weights(d);
        this.scale = d.scale();
        this.in = in;
    }

    /** W {@code [out×in]} packed as the forward's B ({@code wᵀ}): packed index {@code p} is o, the depth c. */
    PackedGemm.Packer forwardB(float[] w) {
        PackedGemm.Packer plain = Operands.rowsOf(w, in);
        return (dst, at, width, first, count, k0, kc) -> {
            plain.pack(dst, at, width, first, count, k0, kc);
            for (int r = 0; r < count; r++) {
                long k = (long) (first + r) * in + k0;
                for (int kk = 0; kk < kc; kk += Long.SIZE) {
                    int run = Math.min(Long.SIZE, kc - kk);
                    long keep = philox.keepBits(k + kk, run);
                    for (int q = 0; q < run; q++) {
                        int o = at + (kk + q) * width + r;
                        dst[o] = (keep >>> q & 1L) != 0 ? dst[o] * scale : 0f;
                    }
                }
            }
        };
    }

    /** W packed as the backward dx's B ({@code w} itself): packed index {@code p} is c, the depth o. */
    PackedGemm.Packer dxB(float[] w) {
        PackedGemm.Packer plain = Operands.columnsOf(w, in);
        return (dst, at, width, first, count, k0, kc) -> {
            plain.pack(dst, at, width, first, count, k0, kc);
            for (int kk = 0; kk < kc; kk++) {
                long k = (long) (k0 + kk) * in + first;
                for (int c = 0; c < count; c += Long.SIZE) {
                    int run = Math.min(Long.SIZE, count - c);
                    maskRun(dst, at + kk * width + c, run, philox.keepBits(k + c, run));
                }
            }
        };
    }

    /** dW's store epilogue: row {@code i} of the {@code [out×in]} product is output o, its columns c. */
    PackedGemm.StoreEpilogue gradient() {
        return (tile, t, i, j0, cols) -> maskRun(tile, t, cols, philox.keepBits((long) i * in + j0, cols));
    }

    /** {@code a[at + q] = bit q of keep ? a[at + q]·s : 0} for {@code q < run} (≤ 64), in vector lanes. */
    private void maskRun(float[] a, int at, int run, long keep) {
        for (int c = 0; c < run; c += L) {
            FloatVector v = FloatVector.fromArray(S, a, at + c, S.indexInRange(c, run));
            FloatVector.zero(S).blend(v.mul(scale), VectorMask.fromLong(S, keep >>> c))
                    .intoArray(a, at + c, S.indexInRange(c, run));
        }
    }
}
