package dev.fuse4j.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code C[M×N] = A[M×K] · B[K×N]} with packed operands and a register-blocked microkernel: {@value #MR} rows ×
 * two vectors of columns held in twelve accumulators. B is packed once per call into {@link #NR}-wide panels
 * (k-major, so the kernel loads two vectors per k); A is packed once per call too, a row block at a time by the
 * task that owns those rows, into {@value #MR}-row micro-panels (k-major, so the kernel broadcasts from consecutive
 * floats). K is split into blocks of {@value #KC} so one panel slice stays in L1 and one A block in L2. On the last
 * K block an optional {@link TileEpilogue} runs on the finished tile while it sits in L1, before it is stored: the
 * forward's bias, activation and dropout never make a second pass over the output.
 *
 * <p>Work is split by rows first: a task owns a range of micro-panels across every column, so no A block is packed
 * twice. Only when there are too few rows to keep every core busy are the columns split as well.
 *
 * <p>The operands come from {@link Packer}s, so the same kernel serves the forward ({@code x·wᵀ}) and both
 * backward products.
 */
final class PackedGemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int MR = 6;
    static final int NR = 2 * L;
    static final int KC = 256;
    /** Rows of one packed A block: 24 micro-panels, 144 KiB at KC = 256, well inside L2 beside the B slices. */
    static final int MC = 24 * MR;
    /** Tasks per thread: enough to even out a core that is interrupted, few enough that each streams little B. */
    private static final int TASKS_PER_THREAD = 4;

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
    private final ReusableBuffer packedB = new ReusableBuffer();
    /** Each worker's packed A block, kept between tasks and calls (a task runs on one thread from start to end). */
    private final ReusableBuffer packedA = new ReusableBuffer();

    PackedGemm(WorkerPool pool) {
        this.pool = pool;
    }

    /**
     * Computes C into {@code c} (row-major, leading dimension {@code n}); {@code epilogue} may be null.
     */
    void multiply(int m, int n, int k, Packer a, Packer b, float[] c, TileEpilogue epilogue) {
        float[] bp = packedB.get(packedSize(n, k));
        pack(n, k, b, bp);
        multiplyPacked(m, n, k, a, bp, c, epilogue);
    }

    /** The calling thread's scratch for a packed B of {@code floats}, kept between calls. */
    float[] scratchB(int floats) {
        return packedB.get(floats);
    }

    /** Floats of B {@code [k×n]} packed by {@link #pack}. */
    static int packedSize(int n, int k) {
        return (n + NR - 1) / NR * k * NR;
    }

    /** Packs all of B {@code [k×n]} into {@code bp} ({@link #packedSize} floats), panel after panel. */
    void pack(int n, int k, Packer b, float[] bp) {
        int panels = (n + NR - 1) / NR;
        pool.parallelFor(panels, p -> {
            int j0 = p * NR;
            b.pack(bp, p * k * NR, j0, Math.min(NR, n - j0), 0, k);
        });
    }

    /** As {@link #multiply}, with B already packed by {@link #pack}. */
    void multiplyPacked(int m, int n, int k, Packer a, float[] bp, float[] c, TileEpilogue epilogue) {
        int panels = (n + NR - 1) / NR;
        int microPanels = (m + MR - 1) / MR;
        int wanted = TASKS_PER_THREAD * pool.threads();
        int rowParts = Math.min(microPanels, wanted);
        int colParts = Math.min(panels, (wanted + rowParts - 1) / rowParts);
        pool.parallelFor(rowParts * colParts, task -> {
            int rp = task / colParts;
            int cp = task % colParts;
            int iFrom = (int) ((long) microPanels * rp / rowParts) * MR;
            int iTo = Math.min(m, (int) ((long) microPanels * (rp + 1) / rowParts) * MR);
            int pFrom = (int) ((long) panels * cp / colParts);
            int pTo = (int) ((long) panels * (cp + 1) / colParts);
            float[] ap = packedA.get(Math.min(MC, iTo - iFrom + MR) * Math.min(KC, k));
            float[] tile = new float[MR * NR];
            for (int i0 = iFrom; i0 < iTo; i0 += MC) {
                int rows = Math.min(MC, iTo - i0);
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
                            int i = i0 + mr;
                            int tileRows = Math.min(MR, rows - mr);
                            if (tileRows == MR && cols == NR) {
                                kernel(ap, mr * kc, bp, bAt, kc, c, i * n + j0, n, accumulate);
                                if (ep != null) {
                                    for (int r = 0; r < MR; r++) {
                                        ep.apply(c, (i + r) * n + j0, i + r, j0, NR);
                                    }
                                }
                            } else {
                                kernel(ap, mr * kc, bp, bAt, kc, tile, 0, NR, false);
                                finishEdge(tile, c, n, i, tileRows, j0, cols, accumulate, ep);
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * The 6 × 2L microkernel: twelve accumulators, one k step per iteration, then (with {@code accumulate}) the
     * previous K blocks' sums added, and the 6 × {@link #NR} result stored to {@code dst} at {@code at} with row
     * stride {@code ld}. It is kept apart from the epilogue: in one compilation unit with it, C2 ran out of inlining
     * budget and left the epilogue's vector operations un-intrinsified (boxed).
     */
    private static void kernel(float[] a, int aAt, float[] b, int bAt, int kc, float[] dst, int at, int ld,
                               boolean accumulate) {
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
        if (accumulate) {
            c00 = c00.add(FloatVector.fromArray(S, dst, at));
            c01 = c01.add(FloatVector.fromArray(S, dst, at + L));
            c10 = c10.add(FloatVector.fromArray(S, dst, at + ld));
            c11 = c11.add(FloatVector.fromArray(S, dst, at + ld + L));
            c20 = c20.add(FloatVector.fromArray(S, dst, at + 2 * ld));
            c21 = c21.add(FloatVector.fromArray(S, dst, at + 2 * ld + L));
            c30 = c30.add(FloatVector.fromArray(S, dst, at + 3 * ld));
            c31 = c31.add(FloatVector.fromArray(S, dst, at + 3 * ld + L));
            c40 = c40.add(FloatVector.fromArray(S, dst, at + 4 * ld));
            c41 = c41.add(FloatVector.fromArray(S, dst, at + 4 * ld + L));
            c50 = c50.add(FloatVector.fromArray(S, dst, at + 5 * ld));
            c51 = c51.add(FloatVector.fromArray(S, dst, at + 5 * ld + L));
        }
        c00.intoArray(dst, at);
        c01.intoArray(dst, at + L);
        c10.intoArray(dst, at + ld);
        c11.intoArray(dst, at + ld + L);
        c20.intoArray(dst, at + 2 * ld);
        c21.intoArray(dst, at + 2 * ld + L);
        c30.intoArray(dst, at + 3 * ld);
        c31.intoArray(dst, at + 3 * ld + L);
        c40.intoArray(dst, at + 4 * ld);
        c41.intoArray(dst, at + 4 * ld + L);
        c50.intoArray(dst, at + 5 * ld);
        c51.intoArray(dst, at + 5 * ld + L);
    }

    /**
     * For a tile cut by the matrix edge, computed into {@code tile}: adds the previous K blocks' partial sums, runs
     * the epilogue on the last block, and stores the rows and columns that exist.
     */
    private static void finishEdge(float[] tile, float[] c, int ldc, int i0, int rows, int j0, int cols,
                               boolean accumulate, TileEpilogue ep) {
        VectorMask<Float> m0 = S.indexInRange(0, cols);
        VectorMask<Float> m1 = S.indexInRange(L, cols);
        for (int r = 0; r < rows; r++) {
            int at = (i0 + r) * ldc + j0;
            int t = r * NR;
            if (accumulate) {
                FloatVector p0 = FloatVector.fromArray(S, c, at, m0);
                FloatVector p1 = FloatVector.fromArray(S, c, at + L, m1);
                FloatVector.fromArray(S, tile, t).add(p0).intoArray(tile, t);
                FloatVector.fromArray(S, tile, t + L).add(p1).intoArray(tile, t + L);
            }
            if (ep != null) {
                ep.apply(tile, t, i0 + r, j0, cols);
            }
            FloatVector.fromArray(S, tile, t).intoArray(c, at, m0);
            FloatVector.fromArray(S, tile, t + L).intoArray(c, at + L, m1);
        }
    }
}
