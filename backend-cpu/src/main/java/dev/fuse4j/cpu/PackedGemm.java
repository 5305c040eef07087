package dev.fuse4j.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import java.util.Arrays;

import static dev.fuse4j.cpu.Tuning.L;
import static dev.fuse4j.cpu.Tuning.S;

/**
 * {@code C[M×N] = A[M×K] · B[K×N]} with packed operands and a register-blocked {@link Microkernel} of {@code MR} rows ×
 * {@code NR} columns ({@code NR} a few vectors), both set by the {@link Tuning.Blocking} it is made with. K is split
 * into blocks of {@code KC} so one panel slice stays in L1, and rows into blocks of {@code MC} so one A block stays in
 * L2, or larger ones when B is too large for the caches ({@link #aBlockRows}). B is packed once per call into
 * {@code NR}-wide panels (k-major, so the kernel loads its vectors of one k step from consecutive floats), laid out K
 * block by K block: the slices of every panel for one K block lie one after the other, so an A block's sweep across
 * the panels reads one sequential stream. (Panel after panel, each slice was a short run followed by a jump of a
 * panel's whole depth, 256 KiB at K = 4096 on AVX2, and the product ran at 0.7 of today's speed on one thread at
 * 2048×4096→4096: docs/performance.md, "B's K blocks side by side".) A is packed once per call too, a row block at a
 * time by the task that owns those rows, into {@code MR}-row micro-panels (k-major, so the kernel broadcasts from
 * consecutive floats). On the last K block an optional {@link TileEpilogue} runs on the finished tile while it sits in
 * L1, before it is stored: the forward's bias, activation and dropout never make a second pass over the output.
 * Where an A block and the C rows it updates are too large for L2 together, the K blocks before the last sum into a
 * packed C instead ({@link #packsC}), and only the last one writes C.
 *
 * <p>Work is split by rows first: a task owns a range of micro-panels across every column, so no A block is packed
 * twice. Only when there are too few rows to keep every core busy are the columns split as well.
 *
 * <p>The operands come from {@link Packer}s, so the same kernel serves the forward ({@code x·wᵀ}) and both
 * backward products.
 */
final class PackedGemm {
    /**
     * Rows a task has at least (when there are that many) where B comes from a cache: each task streams all of its
     * columns of B through the core, so a task of few rows computes little per B float loaded.
     */
    private static final int MIN_TASK_ROWS = 32;
    /**
     * Rows a task has at least, rounded down to whole micro-panels, where B comes from memory ({@link #fromMemory}):
     * 256 rows compute about 28 µs on each 32 KiB panel (AVX-512, KC 256), so one core asks about 1.2 GB/s of memory;
     * parts of 32 rows asked about 9 and waited on it.
     */
    static final int MIN_STREAMING_ROWS = 256;
    /** Tasks per thread at least: when the rows give fewer, the columns are split as well. */
    private static final int MIN_TASKS_PER_THREAD = 2;
    /**
     * A packed B larger than this (bytes) is taken to come from memory, not from a last-level cache shared with other
     * cores and tenants: every A block streams all of it, so A blocks grow to at least {@link #LARGE_B_A_BLOCK_BYTES}.
     */
    static final long LARGE_B_BYTES = 16L << 20;
    /**
     * An A block's size at least when B is large ({@link #streamingBlockPanels} may make it larger, below twice
     * this): four times an AVX2 block of 96 × 384 floats, two AVX-512 blocks of 144 ×
     * 512. OpenBLAS's own blocks on Haswell are twice this (768 × 384 floats); an A block larger than L2 still feeds
     * the kernel in order, 24 bytes per k step of a 6-row tile.
     */
    static final int LARGE_B_A_BLOCK_BYTES = 576 << 10;
    /**
     * The L2 an A block and its C rows are meant to share (bytes): 1 MiB on Zen 4 and 5, where this was measured; Zen
     * 3 has 512 KiB, recent Intel cores 1.25–2 MiB. Over it, C goes packed ({@link #packsC}).
     */
    static final long L2_BYTES = 1L << 20;
    /**
     * The size (bytes) a task's packed C is cut to: a wider C is done in equal column chunks, as many as this size
     * gives rounded to the nearest ({@link #chunkPanels}), each packing its A block again. A chunk then holds at most
     * half as much again, which bounds each worker's scratch at 12 MiB whatever N is.
     */
    static final long MAX_PACKED_C_BYTES = 8L << 20;

    /** Finishes rows of a tile on the last K block, before they are stored ({@link TileEpilogue}, DropConnect's dW). */
    interface StoreEpilogue {
        /**
         * Rewrites in place {@code tile[t .. t+cols)}, row {@code i}'s sums for columns {@code j0 .. j0+cols-1}
         * ({@code cols} ≤ 64).
         */
        void apply(float[] tile, int t, int i, int j0, int cols);

        /**
         * As {@link #apply} for rows {@code i} at {@code t0} and {@code i + 1} at {@code t1}, called only where
         * {@link #pairsRows}; by default one after the other.
         */
        default void applyTwo(float[] tile, int t0, int t1, int i, int j0, int cols) {
            apply(tile, t0, i, j0, cols);
            apply(tile, t1, i + 1, j0, cols);
        }

        /**
         * Whether rows are handed over two at a time ({@link #applyTwo}), the second before the first is stored. Not
         * by default: an epilogue may read rows of C stored before it (batch norm's statistics read their group's
         * first row back from C).
         */
        default boolean pairsRows() {
            return false;
        }
    }

    /** Fills packed operand blocks (see {@link Operands}). */
    interface Packer {
        /**
         * Packs the operand's A rows or B columns {@code first .. first+count-1} ({@code count ≤ width}) for k in
         * {@code [k0, k0+kc)} into {@code dst[at + kk·width + (p - first)]}, zeroing the places past {@code count}:
         * {@code width} is MR for an A micro-panel, NR for a B panel.
         */
        void pack(float[] dst, int at, int width, int first, int count, int k0, int kc);
    }

    private final WorkerPool pool;
    private final Microkernel kernel;
    private final int mr;
    private final int nr;
    private final int kcMax;
    private final int mcMax;
    private final long l2Bytes;
    private final long maxPackedCBytes;
    private final ReusableBuffer packedB = new ReusableBuffer();
    /** Each worker's packed A block, kept between tasks and calls (a task runs on one thread from start to end). */
    private final ReusableBuffer packedA = new ReusableBuffer();
    /** Each worker's packed C ({@link #packsC}), kept like {@link #packedA}. */
    private final ReusableBuffer packedC = new ReusableBuffer();

    PackedGemm(WorkerPool pool, Tuning.Blocking blocking) {
        this(pool, blocking, L2_BYTES, MAX_PACKED_C_BYTES);
    }

    /** With the cache and scratch sizes given, so tests can take the packed-C path and its chunks at small shapes. */
    PackedGemm(WorkerPool pool, Tuning.Blocking blocking, long l2Bytes, long maxPackedCBytes) {
        this.pool = pool;
        this.l2Bytes = l2Bytes;
        this.maxPackedCBytes = maxPackedCBytes;
        this.kernel = blocking.kernel();
        this.mr = kernel.rows();
        this.nr = kernel.vectors() * L;
        this.kcMax = blocking.kc();
        this.mcMax = blocking.mc();
    }

    /**
     * Computes C into {@code c} (row-major, leading dimension {@code n}); {@code epilogue} may be null.
     */
    void multiply(int m, int n, int k, Packer a, Packer b, float[] c, StoreEpilogue epilogue) {
        float[] bp = packedB.get(packedSize(n, k));
        pack(n, k, b, bp);
        multiplyPacked(m, n, k, a, bp, c, epilogue);
    }

    /** The calling thread's scratch for a packed B of {@code floats}, kept between calls. */
    float[] scratchB(int floats) {
        return packedB.get(floats);
    }

    /** Floats of B {@code [k×n]} packed by {@link #pack}, its {@link ArrayLayout#LEAD} included. */
    int packedSize(int n, int k) {
        return ArrayLayout.LEAD + panelFloats(n, k);
    }

    /** B's panels ({@code NR} columns each) for {@code n} columns, the last one cut by the edge. */
    private int panels(int n) {
        return (n + nr - 1) / nr;
    }

    /** Floats of B {@code [k×n]}'s panels, without the lead. */
    private int panelFloats(int n, int k) {
        return panels(n) * k * nr;
    }

    /**
     * Packs all of B {@code [k×n]} into {@code bp} ({@link #packedSize} floats): K block after K block, and within
     * one the panels' slices in order ({@link #sliceAt}).
     */
    void pack(int n, int k, Packer b, float[] bp) {
        int panels = panels(n);
        pool.parallelFor(panels, p -> {
            int j0 = p * nr;
            for (int k0 = 0; k0 < k; k0 += kcMax) {
                int kc = Math.min(kcMax, k - k0);
                b.pack(bp, sliceAt(panels, p, k0, kc), nr, j0, Math.min(nr, n - j0), k0, kc);
            }
        });
    }

    /**
     * Where panel {@code p}'s slice of the K block at {@code k0} starts in a B packed by {@link #pack}, {@code kc} that
     * block's depth: every block before it is {@code KC} deep across all {@code panels}, and the first starts on a
     * cache line ({@link ArrayLayout}).
     */
    private int sliceAt(int panels, int p, int k0, int kc) {
        return ArrayLayout.LEAD + k0 * panels * nr + p * kc * nr;
    }

    /**
     * Rows per A block for a product whose packed B is {@code n × k}: the blocking's MC, or, when B is larger than
     * {@link #LARGE_B_BYTES}, as many rows as fill {@link #LARGE_B_A_BLOCK_BYTES} (a multiple of MR, never fewer
     * than MC). Each A block streams all of B from memory, so larger blocks stream it fewer times: the layer at
     * 2048×4096→4096 ran 1.02–1.03× on two AVX2 threads, 1.03–1.06× on one and on two AVX-512 threads
     * (docs/performance.md, "A blocks for a B that comes from memory").
     */
    int aBlockRows(int n, int k) {
        if (!fromMemory(n, k)) {
            return mcMax;
        }
        int rows = LARGE_B_A_BLOCK_BYTES / (Float.BYTES * Math.min(kcMax, k)) / mr * mr;
        return Math.max(mcMax, rows);
    }

    /** Whether a packed B {@code n × k} is over {@link #LARGE_B_BYTES}: taken to come from memory. */
    boolean fromMemory(int n, int k) {
        return (long) panelFloats(n, k) * Float.BYTES > LARGE_B_BYTES;
    }

    /**
     * How a product is cut into tasks: row parts ({@code rowCuts}, in micro-panels) times {@code colParts} equal runs
     * of B's panels, task {@code t} taking row part {@code t / colParts} and column run {@code t % colParts}; each
     * task packs its rows {@code blockRows} at a time ({@link #aBlockRows}, or {@link #streamingBlockPanels}' larger
     * block for a B from memory).
     */
    record Split(int[] rowCuts, int colParts, int blockRows) {
        int tasks() {
            return (rowCuts.length - 1) * colParts;
        }
    }

    /**
     * The tasks of an {@code m × n} product of depth {@code k}: row parts by {@link #streamingRowParts} where B comes
     * from memory, each run as one A block where it is less than two ({@link #streamingBlockPanels}),
     * else by {@link #rowParts}; and, where the rows give fewer than {@link #MIN_TASKS_PER_THREAD} parts per thread,
     * the columns split as well, which adds no pass over B.
     */
    Split split(int m, int n, int k) {
        int panels = panels(n);
        int microPanels = (m + mr - 1) / mr;
        int blockRows = aBlockRows(n, k);
        int blockPanels = blockRows / mr;
        int[] rowCuts;
        if (fromMemory(n, k)) {
            rowCuts = streamingRowParts(microPanels, pool.threads(), Math.max(1, MIN_STREAMING_ROWS / mr),
                    blockPanels);
            blockRows = streamingBlockPanels(rowCuts, blockPanels) * mr;
        } else {
            rowCuts = rowParts(microPanels, pool.threads(), Math.max(1, MIN_TASK_ROWS / mr), blockPanels);
        }
        int parts = rowCuts.length - 1;
        int colParts = pool.threads() == 1 ? 1
                : Math.min(panels, (MIN_TASKS_PER_THREAD * pool.threads() + parts - 1) / parts);
        return new Split(rowCuts, colParts, blockRows);
    }

    /** As {@link #multiply}, with B already packed by {@link #pack}. */
    void multiplyPacked(int m, int n, int k, Packer a, float[] bp, float[] c, StoreEpilogue epilogue) {
        int panels = panels(n);
        Split split = split(m, n, k);
        int[] rowCuts = split.rowCuts();
        int colParts = split.colParts();
        int mc = split.blockRows();
        pool.parallelFor(split.tasks(), task -> {
            int rp = task / colParts;
            int cp = task % colParts;
            int iFrom = rowCuts[rp] * mr;
            int iTo = Math.min(m, rowCuts[rp + 1] * mr);
            int pFrom = (int) ((long) panels * cp / colParts);
            int pTo = (int) ((long) panels * (cp + 1) / colParts);
            int blockMicroPanels = (Math.min(mc, iTo - iFrom) + mr - 1) / mr;
            boolean packC = packsC(blockMicroPanels * mr, (pTo - pFrom) * nr, k);
            int chunkPanels = packC ? chunkPanels(blockMicroPanels * mr, pTo - pFrom) : pTo - pFrom;
            float[] ap = packedA.get(Math.min(mc, iTo - iFrom + mr) * Math.min(kcMax, k));
            float[] cPacked = packC ? packedC.get(ArrayLayout.LEAD + blockMicroPanels * chunkPanels * mr * nr) : null;
            float[] tile = new float[mr * nr];
            for (int i0 = iFrom; i0 < iTo; i0 += mc) {
                int rows = Math.min(mc, iTo - i0);
                for (int q0 = pFrom; q0 < pTo; q0 += chunkPanels) {
                    int q1 = Math.min(pTo, q0 + chunkPanels);
                    for (int k0 = 0; k0 < k; k0 += kcMax) {
                        int kc = Math.min(kcMax, k - k0);
                        for (int r0 = 0; r0 < rows; r0 += mr) {
                            a.pack(ap, r0 * kc, mr, i0 + r0, Math.min(mr, rows - r0), k0, kc);
                        }
                        boolean accumulate = k0 > 0;
                        boolean last = k0 + kc == k;
                        StoreEpilogue ep = last ? epilogue : null;
                        for (int p = q0; p < q1; p++) {
                            int j0 = p * nr;
                            int cols = Math.min(nr, n - j0);
                            int bAt = sliceAt(panels, p, k0, kc);
                            for (int r0 = 0; r0 < rows; r0 += mr) {
                                int i = i0 + r0;
                                int tileRows = Math.min(mr, rows - r0);
                                if (packC) {
                                    // Tiles in the order this loop visits them, so each K block reads them back in
                                    // one stream.
                                    int at = ArrayLayout.LEAD + ((p - q0) * blockMicroPanels + r0 / mr) * mr * nr;
                                    kernel.multiply(ap, r0 * kc, bp, bAt, kc, cPacked, at, nr, accumulate);
                                    if (last) {
                                        store(cPacked, at, c, n, i, tileRows, j0, cols, false, ep);
                                    }
                                } else if (tileRows == mr && cols == nr) {
                                    kernel.multiply(ap, r0 * kc, bp, bAt, kc, c, i * n + j0, n, accumulate);
                                    if (ep != null) {
                                        finishRows(ep, c, i * n + j0, n, i, mr, j0, nr);
                                    }
                                } else {
                                    kernel.multiply(ap, r0 * kc, bp, bAt, kc, tile, 0, nr, false);
                                    store(tile, 0, c, n, i, tileRows, j0, cols, accumulate, ep);
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * Whether a task whose A blocks have {@code rows} rows and whose C has {@code cols} columns sums its K blocks into
     * a packed C. Each K block but the last ends by adding its tiles to C's; with more than one, an A block and its C
     * rows larger than {@link #l2Bytes} together send every tile back to L3 between blocks, and the tile's rows, a
     * whole C row apart, are a pattern the prefetchers do not follow: 6.7 % of the samples of the 2048×4096→4096
     * backward waited on those loads. A packed C is read back in order. At that shape the GEMM alone ran 1.01–1.04×
     * on two threads (AVX2 and AVX-512) and 0.99–1.00× on one; where C fits, packing it gained nothing
     * (docs/performance.md, "A packed C for long K").
     */
    boolean packsC(int rows, int cols, int k) {
        return k > kcMax
                && (long) rows * (Math.min(kcMax, k) + cols) * Float.BYTES > l2Bytes;
    }

    /**
     * Panels per column chunk of a packed C of {@code rows} rows: {@code panels} in the whole number of equal chunks
     * nearest to what {@link #maxPackedCBytes} holds, at least one. Cut at that size, 4096 columns of an A block of
     * 516 rows (AVX2, 2048 rows in four parts) made a chunk of 254 panels and one of 2, and the second packed the whole
     * A block again for 2 panels of work.
     */
    int chunkPanels(int rows, int panels) {
        long perPanel = (long) rows * nr * Float.BYTES;
        long fit = Math.max(1, maxPackedCBytes / perPanel);
        int chunks = (int) Math.max(1, (panels + fit / 2) / fit);
        return Math.ceilDiv(panels, chunks);
    }

    /**
     * Where the row tasks of {@code microPanels} micro-panels start and end ({@code parts + 1} cuts, in
     * micro-panels). Each task takes half a thread's share of what is left, at least {@code minPanels}: tasks are
     * claimed in order, so the first are large and the last small, and the threads finish close together even when
     * one started late or ran slower; equal parts left one thread idle for most of a part at the end
     * (docs/performance.md, "Hand-offs and shrinking row parts"). A part larger than an A block
     * ({@code blockPanels}) is rounded up to whole blocks: each block streams all of B, so a part ending in a sliver
     * of a block would stream B once more for little work. Only the last part may be smaller than
     * {@code minPanels}: folding it into the one before made the tail less even and lost more than its extra pass
     * over B costs. One thread takes everything in one task.
     */
    static int[] rowParts(int microPanels, int threads, int minPanels, int blockPanels) {
        if (threads == 1 || microPanels == 0) {
            return new int[] {0, microPanels};
        }
        int[] cuts = new int[microPanels + 1];
        int parts = 0;
        for (int at = 0; at < microPanels; ) {
            int left = microPanels - at;
            int size = Math.max(minPanels, (left + 2 * threads - 1) / (2 * threads));
            if (size > blockPanels) {
                size = (size + blockPanels - 1) / blockPanels * blockPanels;
            }
            at += Math.min(left, size);
            cuts[++parts] = at;
        }
        return Arrays.copyOf(cuts, parts + 1);
    }

    /**
     * Where the row tasks start and end ({@code parts + 1} cuts, in micro-panels) for a B that comes from memory
     * ({@link #fromMemory}): equal parts, {@link #MIN_TASKS_PER_THREAD} per thread (one thread: one) times the whole
     * number of rounds nearest to the rows' A blocks ({@code blockPanels}) per round, at least one; but no smaller than
     * {@code minPanels} unless there is only one. Rounding to the nearest rather than up makes a part at most half a
     * block larger than one block (smaller where the rows fill less than half a round), and {@link #split} runs such a
     * part as one larger block: rounding up cut 2048 rows of AVX2 blocks of 384 (5.3 blocks) into eight parts of 256,
     * eight passes over B where four parts of 512 make four; the whole layer at 2048×4096→4096 on AVX2 then ran the
     * forward 1.01–1.04× and the backward 1.00–1.04× in four runs (docs/performance.md, "Parts rounded to the nearest A
     * block, and where AVX2's big backward stops"). The minimum comes first: where it caps the count, the parts are
     * fewer (a whole number per thread when there are as many as threads) and may be larger still; {@link #split} runs
     * one of less than two blocks as one block, a larger one as several. Every part streams all of B from memory, so
     * {@link #rowParts}' shrinking tail, which ends in parts of 32 rows, costs here what it saves elsewhere: at
     * 2048×4096→4096 (AVX-512, KC 256: A blocks of 576 rows) it made 14 parts, 14 passes over 64 MiB, where these are
     * four of 512 rows; the last ones waited on memory. Equal parts claimed in order also keep the threads on the same
     * panels at about the same time, so each panel's trip from memory serves them all through the shared L3. Where
     * there are fewer than {@link #MIN_TASKS_PER_THREAD} parts per thread (a small batch), {@link #split} splits the
     * columns as well; where there are enough, splitting the columns too lost 2–7 % (docs/performance.md, "Equal row
     * parts for a B from memory").
     */
    static int[] streamingRowParts(int microPanels, int threads, int minPanels, int blockPanels) {
        int perRound = threads == 1 ? 1 : MIN_TASKS_PER_THREAD * threads;
        long perRoundPanels = (long) blockPanels * perRound;
        int rounds = (int) Math.max(1, (microPanels + perRoundPanels / 2) / perRoundPanels);
        int parts = rounds * perRound;
        int most = microPanels / minPanels;
        if (most < parts) {
            parts = most >= threads ? most / threads * threads : most;
        }
        parts = Math.max(1, parts);
        int[] cuts = new int[parts + 1];
        for (int p = 1; p <= parts; p++) {
            cuts[p] = (int) ((long) microPanels * p / parts);
        }
        return cuts;
    }

    /**
     * Micro-panels per A block for the row parts {@code cuts} of {@link #streamingRowParts}: the largest part where it
     * is larger than {@code blockPanels} but less than two blocks, so that such a part is one block rather than a
     * block and a remainder that would stream all of B again for fewer rows; else {@code blockPanels}. Rounded to the
     * nearest round, parts are at most half a block larger than one; only the minimum rows make them larger.
     */
    static int streamingBlockPanels(int[] cuts, int blockPanels) {
        int largest = 0;
        for (int p = 1; p < cuts.length; p++) {
            largest = Math.max(largest, cuts[p] - cuts[p - 1]);
        }
        return largest > blockPanels && largest < 2 * blockPanels ? largest : blockPanels;
    }

    /**
     * Hands {@code rows} rows of a tile, from {@code at} and {@code stride} floats apart (rows {@code i ..} of C), to
     * {@code ep}: two at a time where it takes them in pairs ({@link StoreEpilogue#pairsRows}), else one by one.
     */
    private static void finishRows(StoreEpilogue ep, float[] a, int at, int stride, int i, int rows, int j0,
                                   int cols) {
        int r = 0;
        if (ep.pairsRows()) {
            for (; r + 1 < rows; r += 2) {
                ep.applyTwo(a, at + r * stride, at + (r + 1) * stride, i + r, j0, cols);
            }
        }
        for (; r < rows; r++) {
            ep.apply(a, at + r * stride, i + r, j0, cols);
        }
    }

    /**
     * Stores a tile computed into {@code tile} from {@code t}, rows {@code nr} floats apart: with {@code accumulate}
     * adds the previous K blocks' sums from C, runs the epilogue (on the last K block), and stores the rows and
     * columns that exist.
     */
    private void store(float[] tile, int t, float[] c, int ldc, int i0, int rows, int j0, int cols,
                       boolean accumulate, StoreEpilogue ep) {
        // Rows one at a time, or two where the epilogue takes them in pairs (StoreEpilogue.pairsRows).
        int step = ep != null && ep.pairsRows() ? 2 : 1;
        for (int r = 0; r < rows; r += step) {
            int count = Math.min(step, rows - r);
            if (accumulate) {
                for (int q = r; q < r + count; q++) {
                    int at = (i0 + q) * ldc + j0;
                    int tq = t + q * nr;
                    for (int v = 0; v < cols; v += L) {
                        VectorMask<Float> m = S.indexInRange(v, cols);
                        FloatVector.fromArray(S, tile, tq + v).add(FloatVector.fromArray(S, c, at + v, m))
                                .intoArray(tile, tq + v);
                    }
                }
            }
            if (ep != null) {
                finishRows(ep, tile, t + r * nr, nr, i0 + r, count, j0, cols);
            }
            for (int q = r; q < r + count; q++) {
                int at = (i0 + q) * ldc + j0;
                int tq = t + q * nr;
                if (cols == nr) {
                    for (int v = 0; v < nr; v += L) {
                        FloatVector.fromArray(S, tile, tq + v).intoArray(c, at + v);
                    }
                } else {
                    for (int v = 0; v < cols; v += L) {
                        FloatVector.fromArray(S, tile, tq + v).intoArray(c, at + v, S.indexInRange(v, cols));
                    }
                }
            }
        }
    }
}
