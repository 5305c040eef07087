package dev.fuse4j.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.lang.ref.SoftReference;

/**
 * {@code C[M×N] = A[M×K] · B[K×N]} with packed operands and a register-blocked microkernel: {@value #MR} rows ×
 * two vectors of columns held in twelve accumulators. B is packed once per call into {@link #NR}-wide panels
 * (k-major, so the kernel loads two vectors per k); A is packed per block into {@value #MR}-row micro-panels
 * (k-major, so the kernel broadcasts from consecutive floats). K is split into blocks of {@value #KC} so one
 * panel slice stays in L1 and one A block in L2. On the last K block an optional {@link TileEpilogue} runs on the
 * finished tile while it sits in L1, before it is stored: the forward's bias, activation and dropout never make a
 * second pass over the output.
 *
 * <p>The operands come from {@link Packer}s, so the same kernel serves the forward ({@code x·wᵀ}) and both
 * backward products, whose packers form {@code dz} on the fly.
 */
final class PackedGemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int MR = 6;
    static final int NR = 2 * L;
    static final int KC = 128;
    static final int MC = 16 * MR;

    /** Fills packed operand blocks. */
    interface Packer {
        /**
         * A side: rows {@code i0 .. i0+rows-1} (rows ≤ MR), k in {@code [k0, k0+kc)}, into
         * {@code dst[at + kk·MR + r]}; rows past {@code rows} must be zero.
         * B side: columns {@code j0 .. j0+cols-1} (cols ≤ NR), into {@code dst[at + kk·NR + c]}; columns past
         * {@code cols} must be zero.
         */
        void pack(float[] dst, int at, int first, int count, int k0, int kc);
    }

    private final WorkerPool pool;
    /**
     * The packed B of the calling thread's last call, reused: a fresh multi-megabyte array per call is a humongous
     * allocation for G1 and made throughput swing by 3× between calls. Soft, so an idle cache can be collected.
     */
    private final ThreadLocal<SoftReference<float[]>> packedB = new ThreadLocal<>();

    PackedGemm(WorkerPool pool) {
        this.pool = pool;
    }

    /**
     * Computes C into {@code c} (row-major, leading dimension {@code n}); {@code epilogue} may be null.
     */
    void multiply(int m, int n, int k, Packer a, Packer b, float[] c, TileEpilogue epilogue) {
        int panels = (n + NR - 1) / NR;
        float[] bp = packedBuffer(panels * k * NR);
        pool.parallelFor(panels, p -> {
            int j0 = p * NR;
            b.pack(bp, p * k * NR, j0, Math.min(NR, n - j0), 0, k);
        });
        int rowBlocks = (m + MC - 1) / MC;
        int wanted = 4 * pool.threads();
        int panelGroups = Math.min(panels, Math.max(1, (wanted + rowBlocks - 1) / rowBlocks));
        int panelsPerGroup = (panels + panelGroups - 1) / panelGroups;
        int groups = (panels + panelsPerGroup - 1) / panelsPerGroup;
        pool.parallelFor(rowBlocks * groups, task -> {
            int rb = task / groups;
            int g = task % groups;
            int i0 = rb * MC;
            int rows = Math.min(MC, m - i0);
            int pFrom = g * panelsPerGroup;
            int pTo = Math.min(panels, pFrom + panelsPerGroup);
            float[] ap = new float[MC * KC];
            TileEpilogue.Scratch scratch = epilogue == null ? null : epilogue.scratch();
            float[] tile = new float[MR * NR];
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kc = Math.min(KC, k - k0);
                for (int mr = 0; mr < rows; mr += MR) {
                    a.pack(ap, mr * kc, i0 + mr, Math.min(MR, rows - mr), k0, kc);
                }
                boolean accumulate = k0 > 0;
                TileEpilogue ep = k0 + kc == k ? epilogue : null;
                for (int p = pFrom; p < pTo; p++) {
                    int j0 = p * NR;
                    int cols = Math.min(NR, n - j0);
                    int bAt = p * k * NR + k0 * NR;
                    for (int mr = 0; mr < rows; mr += MR) {
                        kernel(ap, mr * kc, bp, bAt, kc, tile, c, n, i0 + mr, Math.min(MR, rows - mr), j0, cols,
                                accumulate, ep, scratch);
                    }
                }
            }
        });
    }

    private float[] packedBuffer(int floats) {
        SoftReference<float[]> ref = packedB.get();
        float[] buf = ref == null ? null : ref.get();
        if (buf == null || buf.length < floats) {
            buf = new float[floats];
            packedB.set(new SoftReference<>(buf));
        }
        return buf;
    }

    /** The 6 × 2L microkernel: twelve accumulators, one k step per iteration. */
    private static void kernel(float[] a, int aAt, float[] b, int bAt, int kc, float[] tile, float[] c, int ldc,
                               int i0, int rows, int j0, int cols, boolean accumulate, TileEpilogue ep,
                               TileEpilogue.Scratch scratch) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int kk = 0; kk < kc; kk++) {
            int bk = bAt + kk * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bk);
            FloatVector b1 = FloatVector.fromArray(S, b, bk + L);
            int ak = aAt + kk * MR;
            FloatVector x = FloatVector.broadcast(S, a[ak]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ak + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ak + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ak + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ak + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[ak + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        // The accumulators go to a per-task tile in L1 before anything else touches them: handing vectors to a
        // method the JIT does not inline would box them, and boxing inside this loop costs ~20× its speed.
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + L);
        finish(tile, c, ldc, i0, rows, j0, cols, accumulate, ep, scratch);
    }

    /** Adds the previous K blocks' partial sums, runs the epilogue on the last block, and stores the tile. */
    private static void finish(float[] tile, float[] c, int ldc, int i0, int rows, int j0, int cols,
                               boolean accumulate, TileEpilogue ep, TileEpilogue.Scratch scratch) {
        boolean full = cols == NR;
        VectorMask<Float> m0 = S.indexInRange(0, cols);
        VectorMask<Float> m1 = S.indexInRange(L, cols);
        for (int r = 0; r < rows; r++) {
            int at = (i0 + r) * ldc + j0;
            int t = r * NR;
            if (accumulate) {
                FloatVector p0 = full ? FloatVector.fromArray(S, c, at) : FloatVector.fromArray(S, c, at, m0);
                FloatVector p1 = full ? FloatVector.fromArray(S, c, at + L) : FloatVector.fromArray(S, c, at + L, m1);
                FloatVector.fromArray(S, tile, t).add(p0).intoArray(tile, t);
                FloatVector.fromArray(S, tile, t + L).add(p1).intoArray(tile, t + L);
            }
            if (ep != null) {
                ep.apply(tile, t, i0 + r, j0, cols, scratch);
            }
            if (full) {
                System.arraycopy(tile, t, c, at, NR);
            } else {
                FloatVector.fromArray(S, tile, t).intoArray(c, at, m0);
                FloatVector.fromArray(S, tile, t + L).intoArray(c, at + L, m1);
            }
        }
    }
}
