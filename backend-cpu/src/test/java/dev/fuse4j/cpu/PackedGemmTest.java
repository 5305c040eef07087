package dev.fuse4j.cpu;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How {@link PackedGemm} splits a product into tasks: row parts that shrink as they go ({@link PackedGemm#rowParts}),
 * equal ones of at least 256 rows where B comes from memory, at most half a block larger than one A block and run as
 * one block where less than two ({@link PackedGemm#streamingRowParts}, {@link PackedGemm#streamingBlockPanels},
 * {@link PackedGemm#split}), a packed C's column chunks ({@link PackedGemm#chunkPanels}),
 * columns split as well when the rows give too few, and the same bits whatever the split; and its packed product
 * against a plain one where B's packed layout matters.
 */
class PackedGemmTest {

    @Test
    void rowPartsCoverEveryMicroPanelOnceLargestFirst() {
        for (int threads : new int[] {2, 3, 16}) {
            for (int panels : new int[] {1, 7, 8, 9, 32, 51, 128, 1024}) {
                for (int min : new int[] {1, 4, 8}) {
                    int block = 18;
                    int[] cuts = PackedGemm.rowParts(panels, threads, min, block);
                    String where = panels + " micro-panels, " + threads + " threads, at least " + min;
                    assertEquals(0, cuts[0], where);
                    assertEquals(panels, cuts[cuts.length - 1], where);
                    for (int p = 1; p < cuts.length; p++) {
                        int size = cuts[p] - cuts[p - 1];
                        assertTrue(size >= 1, where + ": empty part " + p);
                        assertTrue(size >= min || p == cuts.length - 1, where + ": part " + p + " has " + size);
                        if (p > 1) {
                            assertTrue(size <= cuts[p - 1] - cuts[p - 2], where + ": part " + p + " grew");
                        }
                        // No part takes more than half a thread's share of what was left before it, rounded up to
                        // whole A blocks when it is larger than one; and such a part ends on a block's end.
                        int left = panels - cuts[p - 1];
                        int share = Math.max(min, (left + 2 * threads - 1) / (2 * threads));
                        int most = share > block ? (share + block - 1) / block * block : share;
                        assertTrue(size <= most, where + ": part " + p + " has " + size + " of " + left);
                        assertTrue(size <= block || size % block == 0 || p == cuts.length - 1,
                                where + ": part " + p + " of " + size + " ends inside an A block");
                    }
                }
            }
        }
    }

    @Test
    void theLastPartsAreSmallSoThreadsFinishTogether() {
        // 1024 rows of an 8-row kernel (A blocks of 144 rows) on two threads: 128 micro-panels, the first parts two
        // blocks, down to the minimum of 4 at the end.
        int[] cuts = PackedGemm.rowParts(128, 2, 4, 18);
        assertArrayEquals(new int[] {0, 36, 72, 86, 97, 105, 111, 116, 120, 124, 128}, cuts);
        assertArrayEquals(new int[] {0, 128}, PackedGemm.rowParts(128, 1, 4, 18), "one thread: one part");
    }

    @Test
    void streamingPartsAreEqualAtMostHalfABlockOverOneAndNoSmallerThanTheMinimum() {
        for (int threads : new int[] {1, 2, 3, 16}) {
            for (int panels : new int[] {0, 1, 5, 7, 31, 32, 64, 72, 73, 144, 256, 1000}) {
                for (int block : new int[] {18, 72}) {
                    for (int min : new int[] {1, 8, 32}) {
                        int[] cuts = PackedGemm.streamingRowParts(panels, threads, min, block);
                        String where = panels + " micro-panels, " + threads + " threads, blocks of " + block
                                + ", at least " + min;
                        int parts = cuts.length - 1;
                        assertEquals(0, cuts[0], where);
                        assertEquals(panels, cuts[parts], where);
                        // Rounds of the per-round count: the whole number nearest to the A blocks per round, a
                        // half rounded up, at least one.
                        int perRound = threads == 1 ? 1 : 2 * threads;
                        int rounds = Math.max(1, (int) Math.floor((double) panels / ((long) perRound * block) + 0.5));
                        int wanted = rounds * perRound;
                        int most = panels / min;
                        int expected = most >= wanted ? wanted : most >= threads ? most - most % threads : most;
                        assertEquals(Math.max(1, expected), parts, where);
                        for (int p = 1; p <= parts; p++) {
                            int size = cuts[p] - cuts[p - 1];
                            assertTrue(Math.abs(size - panels / parts) <= 1, where + ": part " + p + " has " + size);
                            assertTrue(size >= min || parts == 1, where + ": part " + p + " has " + size);
                            // At most half a block larger than one block (the parts differ by one micro-panel at
                            // most), unless the minimum capped the count.
                            assertTrue(2 * size <= 3 * block + 2 || most < wanted,
                                    where + ": part " + p + " has " + size);
                        }
                    }
                }
            }
        }
        // 2048 rows of an 8-row kernel, A blocks of 576 rows, parts of at least 256 rows, two threads
        // (2048×4096→4096 at AVX-512, KC 256): four parts of 512 rows, four passes over B, where rowParts made 14.
        assertArrayEquals(new int[] {0, 64, 128, 192, 256}, PackedGemm.streamingRowParts(256, 2, 32, 72));
        assertEquals(15, PackedGemm.rowParts(256, 2, 4, 72).length);
        // 512 rows: two parts of 256, not four of 128; sixteen threads over 2048 rows: eight parts of 256, not 32 of 64.
        assertArrayEquals(new int[] {0, 32, 64}, PackedGemm.streamingRowParts(64, 2, 32, 72));
        assertArrayEquals(new int[] {0, 32, 64, 96, 128, 160, 192, 224, 256},
                PackedGemm.streamingRowParts(256, 16, 32, 72));
        // Seven parts' worth of rows on two threads: six, so that each thread has three.
        assertEquals(7, PackedGemm.streamingRowParts(7 * 32, 2, 32, 8).length);
        // 2048 rows of a 6-row kernel, A blocks of 384 rows (AVX2, KC 384): 5.3 blocks, one round of four parts of
        // about 512 rows, where rounding up made eight of 256.
        assertArrayEquals(new int[] {0, 85, 171, 256, 342}, PackedGemm.streamingRowParts(342, 2, 42, 64));
    }

    /** A part of more than one A block but less than two runs as one block; others keep the block. */
    @Test
    void aStreamingPartOfLessThanTwoBlocksIsOneBlock() {
        assertEquals(86, PackedGemm.streamingBlockPanels(new int[] {0, 85, 171, 256, 342}, 64));
        assertEquals(72, PackedGemm.streamingBlockPanels(new int[] {0, 64, 128, 192, 256}, 72), "parts within a block");
        assertEquals(64, PackedGemm.streamingBlockPanels(new int[] {0, 128, 256}, 64), "parts of two whole blocks");
        assertEquals(64, PackedGemm.streamingBlockPanels(new int[] {0, 200}, 64), "a part of three blocks and more");
        assertEquals(64, PackedGemm.streamingBlockPanels(new int[] {0, 0}, 64), "no rows");
        assertEquals(65, PackedGemm.streamingBlockPanels(new int[] {0, 64, 129}, 64), "one micro-panel over a block");
        assertEquals(127, PackedGemm.streamingBlockPanels(new int[] {0, 127}, 64), "one micro-panel under two blocks");
    }

    /** Where B comes from memory the rows are cut by streamingRowParts, and a small batch has its columns split. */
    @Test
    void aProductWhoseBComesFromMemorySplitsFewRowsByColumns() {
        Tuning.Blocking blocking = Tuning.BLOCKING;
        int mr = blocking.kernel().rows();
        PackedGemm gemm = new PackedGemm(new WorkerPool(2), blocking);
        int k = 4096, n = 4096;
        assertTrue(gemm.fromMemory(n, k), "B 4096x4096");
        int minPanels = PackedGemm.MIN_STREAMING_ROWS / mr;
        int blockPanels = gemm.aBlockRows(n, k) / mr;
        for (int m : new int[] {1, 128, 256, 512, 2048, 4096}) {
            PackedGemm.Split split = gemm.split(m, n, k);
            int microPanels = (m + mr - 1) / mr;
            assertArrayEquals(PackedGemm.streamingRowParts(microPanels, 2, minPanels, blockPanels), split.rowCuts(),
                    m + " rows");
            int parts = split.rowCuts().length - 1;
            assertEquals(parts >= 4 ? 1 : (4 + parts - 1) / parts, split.colParts(), m + " rows: column runs");
            assertTrue(split.tasks() >= 4, m + " rows: " + split.tasks() + " tasks");
            // The A block: whole micro-panels, never smaller than aBlockRows, and each part one block or at least
            // two.
            int blockRows = split.blockRows();
            assertEquals(0, blockRows % mr, m + " rows: rows per A block " + blockRows);
            assertTrue(blockRows >= blockPanels * mr, m + " rows: rows per A block " + blockRows);
            for (int p = 1; p <= parts; p++) {
                int size = split.rowCuts()[p] - split.rowCuts()[p - 1];
                assertTrue(size * mr <= blockRows || size >= 2 * blockPanels,
                        m + " rows: part " + p + " of " + size + " micro-panels, blocks of " + blockRows + " rows");
            }
        }
        // AVX-512's blocking for Intel (KC 256, A blocks of 576 rows) at 2560 rows: four parts of 640 rows, each one
        // block, where rounding the rounds up made eight of 320.
        PackedGemm wide = new PackedGemm(new WorkerPool(2), new Tuning.Blocking(Microkernel.K8X2, 256, 144));
        PackedGemm.Split batch2560 = wide.split(2560, n, k);
        assertArrayEquals(new int[] {0, 80, 160, 240, 320}, batch2560.rowCuts());
        assertEquals(640, batch2560.blockRows());
        // AVX2's kernel and blocking: 2048 rows in four parts of about 512, each one A block of 516 rows.
        PackedGemm avx2 = new PackedGemm(new WorkerPool(2), new Tuning.Blocking(Microkernel.K6X2, 384, 96));
        PackedGemm.Split batch2048 = avx2.split(2048, n, k);
        assertArrayEquals(new int[] {0, 85, 171, 256, 342}, batch2048.rowCuts());
        assertEquals(516, batch2048.blockRows());
        assertEquals(4, gemm.split(256, n, k).colParts(), "a batch of 256: one row part in four column runs");
        // B in cache: the shrinking parts, and columns split only while the rows give too few.
        PackedGemm.Split cached = gemm.split(1024, 1024, 1024);
        assertFalse(gemm.fromMemory(1024, 1024));
        assertArrayEquals(PackedGemm.rowParts((1024 + mr - 1) / mr, 2, Math.max(1, 32 / mr),
                gemm.aBlockRows(1024, 1024) / mr), cached.rowCuts());
        assertEquals(1, cached.colParts());
        assertEquals(1, new PackedGemm(new WorkerPool(1), blocking).split(256, n, k).colParts(), "one thread");
    }

    /**
     * The product's bits do not depend on the split: one thread (one task), two and three (guided row parts, and
     * columns split too when the rows are few), with edge tiles both ways and K over several blocks.
     */
    @Test
    void everySplitGivesTheSameBits() {
        Tuning.Blocking blocking = Tuning.BLOCKING;
        int nr = blocking.kernel().vectors() * Tuning.L;
        int[][] shapes = {{203, 2 * blocking.kc() + 5, 3 * nr + 7}, {5, 40, 9 * nr}, {64, 17, 2 * nr}};
        Random r = new Random(3);
        for (int[] s : shapes) {
            int m = s[0], k = s[1], n = s[2];
            float[] a = gaussians(r, m * k), b = gaussians(r, k * n);
            float[] one = product(new WorkerPool(1), blocking, m, n, k, a, b);
            for (int threads : new int[] {2, 3}) {
                assertArrayEquals(one, product(new WorkerPool(threads), blocking, m, n, k, a, b),
                        m + "x" + k + " · " + k + "x" + n + " on " + threads + " threads");
            }
        }
    }

    /**
     * The packed product equals a plain one where B's packed layout matters: K over several blocks with a short last
     * one, and a last panel cut by the matrix edge, so a wrong block or panel offset reads another slice of B.
     */
    @Test
    void matchesAPlainProductOverSeveralKBlocksAndAnEdgePanel() {
        Tuning.Blocking blocking = Tuning.BLOCKING;
        int nr = blocking.kernel().vectors() * Tuning.L;
        int m = 2 * blocking.kernel().rows() + 1, k = 3 * blocking.kc() + 7, n = 4 * nr + 3;
        Random r = new Random(5);
        float[] a = gaussians(r, m * k), b = gaussians(r, k * n);
        float[] c = product(new WorkerPool(2), blocking, m, n, k, a, b);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                assertPlainProductAt(i, j, m, n, k, a, b, c);
            }
        }
    }

    /**
     * A packed B over {@link PackedGemm#LARGE_B_BYTES} gets A blocks of {@link PackedGemm#LARGE_B_A_BLOCK_BYTES}
     * (whole micro-panels, never fewer rows than MC); a smaller one keeps MC.
     */
    @Test
    void aBlocksGrowWhenBIsLarge() {
        WorkerPool pool = new WorkerPool(1);
        PackedGemm avx2 = new PackedGemm(pool, new Tuning.Blocking(Microkernel.K6X2, 384, 96));
        PackedGemm wide = new PackedGemm(pool, new Tuning.Blocking(Microkernel.K8X2, 512, 144));
        assertEquals(96, avx2.aBlockRows(1024, 1024), "rows per A block, B 1024x1024");
        assertEquals(144, wide.aBlockRows(1024, 1024), "rows per A block, B 1024x1024");
        assertEquals(384, avx2.aBlockRows(4096, 4096), "rows per A block, B 4096x4096, KC 384");
        assertEquals(288, wide.aBlockRows(4096, 4096), "rows per A block, B 4096x4096, KC 512");
        // K shorter than KC: the block is as deep as K, so it holds more rows, a whole number of micro-panels.
        int rows = avx2.aBlockRows(1 << 16, 100);
        assertEquals(PackedGemm.LARGE_B_A_BLOCK_BYTES / (4 * 100) / 6 * 6, rows, "rows per A block, K 100");
        PackedGemm tall = new PackedGemm(pool, new Tuning.Blocking(Microkernel.K6X2, 384, 768));
        assertEquals(768, tall.aBlockRows(4096, 4096), "rows per A block when MC is above the large-B size");
    }

    /**
     * C goes packed only over several K blocks, and only where an A block and its C rows outgrow L2: among the
     * standard shapes, the 2048×4096→4096 products on both kernels.
     */
    @Test
    void cIsPackedWhereAnABlockAndItsRowsOfCOutgrowL2() {
        WorkerPool pool = new WorkerPool(1);
        PackedGemm avx2 = new PackedGemm(pool, new Tuning.Blocking(Microkernel.K6X2, 384, 96));
        PackedGemm wide = new PackedGemm(pool, new Tuning.Blocking(Microkernel.K8X2, 512, 144));
        assertFalse(avx2.packsC(96, 1024, 1024), "AVX2, 96 rows of A 1024 deep, C 1024 wide");
        assertFalse(avx2.packsC(96, 2048, 2048), "AVX2, 96 rows of A 2048 deep, C 2048 wide");
        assertTrue(avx2.packsC(384, 4096, 4096), "AVX2, 384 rows of A 4096 deep, C 4096 wide");
        assertFalse(avx2.packsC(384, 4096, 384), "AVX2, one K block");
        assertFalse(wide.packsC(144, 1024, 1024), "AVX-512, 144 rows of A 1024 deep, C 1024 wide");
        assertTrue(wide.packsC(288, 4096, 4096), "AVX-512, 288 rows of A 4096 deep, C 4096 wide");
    }

    /** A packed C's columns in the nearest whole number of equal chunks to what its scratch holds. */
    @Test
    void packedCChunksAreEqualAndNoSliverIsLeft() {
        Tuning.Blocking blocking = Tuning.BLOCKING;
        int nr = blocking.kernel().vectors() * Tuning.L;
        int rows = 96;
        PackedGemm gemm = new PackedGemm(new WorkerPool(1), blocking, 0, 100L * rows * nr * Float.BYTES);
        assertEquals(100, gemm.chunkPanels(rows, 100), "exactly one chunk's worth");
        assertEquals(101, gemm.chunkPanels(rows, 101), "one panel over: one chunk, not a chunk and a sliver");
        assertEquals(149, gemm.chunkPanels(rows, 149), "just under one and a half chunks' worth: one");
        assertEquals(75, gemm.chunkPanels(rows, 150), "one and a half: two equal chunks");
        assertEquals(100, gemm.chunkPanels(rows, 300), "three");
        assertEquals(1, gemm.chunkPanels(rows, 1), "one panel");
        PackedGemm tiny = new PackedGemm(new WorkerPool(1), blocking, 0, 1);
        assertEquals(1, tiny.chunkPanels(rows, 7), "scratch under one panel: a panel a chunk");
    }

    /**
     * Through a packed C, in column chunks of a few panels, with edge tiles both ways, several A blocks and a short
     * last K block, every kernel gives the bits of the product stored straight into C, and the epilogue sees each
     * element once.
     */
    @Test
    void aPackedCInChunksGivesTheSameBits() {
        Random r = new Random(11);
        for (Microkernel kernel : Microkernel.values()) {
            int nr = kernel.vectors() * Tuning.L;
            Tuning.Blocking blocking = new Tuning.Blocking(kernel, 16, 2 * kernel.rows());
            int m = 5 * kernel.rows() + 2, k = 3 * 16 + 5, n = 5 * nr + 3;
            float[] a = gaussians(r, m * k), b = gaussians(r, k * n);
            for (int threads : new int[] {1, 2}) {
                WorkerPool pool = new WorkerPool(threads);
                PackedGemm straight = new PackedGemm(pool, blocking, Long.MAX_VALUE, Long.MAX_VALUE);
                PackedGemm packed = new PackedGemm(pool, blocking, 0, 2L * blocking.mc() * nr * Float.BYTES);
                assertFalse(straight.packsC(blocking.mc(), n, k), kernel + ": straight into C");
                assertTrue(packed.packsC(blocking.mc(), n, k), kernel + ": through a packed C");
                assertArrayEquals(product(straight, m, n, k, a, b), product(packed, m, n, k, a, b),
                        kernel + ", " + m + "x" + k + " · " + k + "x" + n + " on " + threads + " threads");
            }
        }
    }

    /** Over A blocks grown for a large B, with an edge panel and a short last K block, C is still the product. */
    @Test
    void matchesAPlainProductWithALargeB() {
        Tuning.Blocking blocking = Tuning.BLOCKING;
        int nr = blocking.kernel().vectors() * Tuning.L;
        int k = 2 * blocking.kc() + 3;
        int n = (int) (PackedGemm.LARGE_B_BYTES / Float.BYTES / k) + nr + 3;
        PackedGemm gemm = new PackedGemm(new WorkerPool(2), blocking);
        int mc = gemm.aBlockRows(n, k);
        assertTrue(mc > blocking.mc(), "A blocks grow for B " + k + "x" + n + ": " + mc + " rows");
        int m = 2 * mc + blocking.kernel().rows() + 1;
        // One thread takes two parts of a block and a micro-panel, each run as one larger block.
        assertTrue(new PackedGemm(new WorkerPool(1), blocking).split(m, n, k).blockRows() > mc, "one thread's blocks");
        Random r = new Random(7);
        float[] a = gaussians(r, m * k), b = gaussians(r, k * n);
        float[] c = product(new WorkerPool(2), blocking, m, n, k, a, b);
        assertArrayEquals(c, product(new WorkerPool(1), blocking, m, n, k, a, b), "one thread against two");
        assertArrayEquals(c, product(new WorkerPool(3), blocking, m, n, k, a, b), "three threads against two");
        // A few rows against the same B: one row part, the columns split among the tasks.
        int few = 3 * blocking.kernel().rows() + 1;
        float[] top = product(new WorkerPool(1), blocking, few, n, k, a, b);
        assertArrayEquals(Arrays.copyOf(c, few * n), top, "the first " + few + " rows alone, one thread");
        assertArrayEquals(top, product(new WorkerPool(2), blocking, few, n, k, a, b), few + " rows, two threads");
        assertArrayEquals(top, product(new WorkerPool(3), blocking, few, n, k, a, b), few + " rows, three threads");
        for (int i : new int[] {0, mc - 1, mc, 2 * mc - 1, 2 * mc, m - 1}) {
            for (int j = 0; j < n; j += 7) {
                assertPlainProductAt(i, j, m, n, k, a, b, c);
            }
            assertPlainProductAt(i, n - 1, m, n, k, a, b, c);
        }
        for (int s = 0; s < 2000; s++) {
            assertPlainProductAt(r.nextInt(m), r.nextInt(n), m, n, k, a, b, c);
        }
    }

    /** {@code C[i][j]} against the product summed in float64, within float32's rounding of the terms' magnitudes. */
    private static void assertPlainProductAt(int i, int j, int m, int n, int k, float[] a, float[] b, float[] c) {
        double sum = 0;
        double magnitude = 0;
        for (int kk = 0; kk < k; kk++) {
            sum += (double) a[i * k + kk] * b[kk * n + j];
            magnitude += Math.abs((double) a[i * k + kk] * b[kk * n + j]);
        }
        assertEquals(sum, c[i * n + j], 1e-5 * magnitude, "C[" + i + "][" + j + "] of " + m + "x" + k + " · " + k
                + "x" + n);
    }

    private static float[] gaussians(Random r, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    /** The product, after checking that the store epilogue saw every element of C exactly once. */
    private static float[] product(WorkerPool pool, Tuning.Blocking blocking, int m, int n, int k, float[] a,
                                   float[] b) {
        return product(new PackedGemm(pool, blocking), m, n, k, a, b);
    }

    private static float[] product(PackedGemm gemm, int m, int n, int k, float[] a, float[] b) {
        float[] c = new float[m * n];
        int[] stored = new int[m * n];
        gemm.multiply(m, n, k, Operands.rowsOf(a, k), Operands.columnsOf(b, n), c,
                (tile, t, i, j0, cols) -> {
                    synchronized (stored) {
                        for (int j = j0; j < j0 + cols; j++) {
                            stored[i * n + j]++;
                        }
                    }
                });
        for (int e = 0; e < stored.length; e++) {
            assertEquals(1, stored[e], "stores of C[" + e / n + "][" + e % n + "]");
        }
        return c;
    }
}
