package dev.fuse4j.kernels;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The launches of elementwise.h's kernels, recorded instead of queued: arguments in the kernels' order. */
class ElementwiseKernelsTest {

    /** Writes each launch as "kernel(arg, arg, ...) groups x size". */
    private static final class Recorder extends Launch<String, Recorder> {
        private final List<String> log;
        private final List<String> args = new ArrayList<>();
        private final String kernel;

        Recorder(String kernel, List<String> log) {
            this.kernel = kernel;
            this.log = log;
        }

        @Override
        public Recorder buffer(String b) {
            args.add(b == null ? "null" : b);
            return this;
        }

        @Override
        public Recorder i32(int v) {
            args.add("i" + v);
            return this;
        }

        @Override
        public Recorder i64(long v) {
            args.add("l" + v);
            return this;
        }

        @Override
        public Recorder f32(float v) {
            args.add("f" + v);
            return this;
        }

        @Override
        public void run(long groups, int size) {
            log.add(kernel + "(" + String.join(", ", args) + ") " + groups + " x " + size);
        }
    }

    private final List<String> log = new ArrayList<>();
    private final ElementwiseKernels<String> kernels = new ElementwiseKernels<>(k -> new Recorder(k, log), 64, 128);

    @Test
    void theDropoutWordsFollowEachKernelsOwnArgumentsInTheHeadersOrder() {
        Dropout d = Dropout.train(0.25f, 0x1_0000_0002L, 7).withElementBase(33);
        kernels.dropoutMask(10, "m", d);
        assertEquals(List.of("dropout_mask(l10, m, f1.3333334, i1, l1073741824, l4294967298, l7, l33, l0, l1, "
                + "i0, f0.0, l0, l0, l0) 1 x 64"), log,
                "elements 33..42 touch Philox blocks 8..10: three work-items in one group; no period, group 1, no "
                + "weight mask");
        assertEquals(Dropout.eval().scale(), 1f);
    }

    /** DropConnect: the output words are evaluation's, the weight-mask words carry p, seed and offset. */
    @Test
    void dropConnectsWordsFollowTheDropoutWordsAndLeaveThemEval() {
        kernels.dropoutMask(10, "m", Dropout.dropConnect(0.25f, 0x1_0000_0002L, 7));
        assertEquals(List.of("dropout_mask(l10, m, f1.0, i0, l0, l0, l0, l0, l0, l1, "
                + "i1, f1.3333334, l1073741824, l4294967298, l7) 1 x 64"), log);
    }

    @Test
    void channelAndVariationalDropoutPassTheirPeriodAndGroupAfterTheElementBase() {
        Dropout d = Dropout.train(0.25f, 3, 7).channels(4).variational(5).withColumns(12);
        kernels.dropoutMask(120, "m", d);
        assertEquals(List.of("dropout_mask(l120, m, f1.3333334, i1, l1073741824, l3, l7, l0, l60, l4, "
                + "i0, f0.0, l0, l0, l0) 1 x 64"), log,
                "period 5 sequences x 12 columns, 4 features per channel, then the weight-mask words (none)");
    }

    @Test
    void maskWorkItemsCoverEveryBlockTheElementsTouch() {
        Dropout d = Dropout.train(0.5f, 1, 2);
        assertEquals(1, ElementwiseKernels.maskBlocks(1, d));
        assertEquals(1, ElementwiseKernels.maskBlocks(4, d));
        assertEquals(2, ElementwiseKernels.maskBlocks(4, d.withElementBase(3)), "elements 3..6 span two blocks");
        assertEquals(2, ElementwiseKernels.maskBlocks(5, d.withElementBase(3)));
        assertEquals(3, ElementwiseKernels.maskBlocks(6, d.withElementBase(3)), "3..8: blocks 0, 1, 2");
    }

    @Test
    void reductionsAndStepsLaunchTheirGeometry() {
        kernels.sum2(1000, "a", "b", "out");
        kernels.sumSlices(3, 130, "parts", "out");
        kernels.adam(100, "p", "g", "m", "v", 0.1f, 0.5f, 0.75f, 1e-8f, 0f, 2);
        assertEquals(List.of("sum2(i1000, a, b, out) 1 x 128", "sum_slices(i3, l130, parts, out) 3 x 64",
                "adam_step(i100, p, g, m, v, f0.1, f0.5, f0.75, f1.0E-8, f0.0, f0.75, f0.4375) 2 x 64"), log,
                "sum2 is one group of RED; Adam's bias corrections 1 - beta^2");
    }

    /** The merge of the GEMM's tile sums: n, out, the tile height, then z, the tile sums and the statistics. */
    @Test
    void statisticsMergeLaunchesOneWorkItemPerFeature() {
        kernels.batchNormMergeStatistics(300, 70, 128, "z", "part", "stats");
        assertEquals(List.of("bn_stats_merge(i300, i70, i128, z, part, stats) 2 x 64"), log,
                "70 features: two groups of 64");
    }

    /** F4J_ACTIVATION_PARAMS: kind, slope, and PReLU's slope buffer, a null pointer for the other kinds. */
    @Test
    void activationArgumentsAreTheKindOrdinalAndSlope() {
        Recorder r = new Recorder("k", log);
        r.activation(Activation.leakyRelu(0.5f)).run(1, 1);
        assertEquals(List.of("k(i1, f0.5, null) 1 x 1"), log);
    }

    /**
     * PReLU's slope gradient: one work-item per column and row chunk, in chunks of at least 64 rows (one chunk up
     * to 127 rows), at most 1024 chunks, every row in exactly one chunk.
     */
    @Test
    void slopeGradientSumsRowChunksOfEveryColumn() {
        for (int n : new int[] {1, 63, 127, 128, 1000, 65536, 100_000}) {
            int[] plan = ElementwiseKernels.slopeGradientChunks(n);
            int chunks = plan[0], rows = plan[1];
            assertEquals(true, chunks >= 1 && chunks <= 1024 && (long) chunks * rows >= n
                    && (long) (chunks - 1) * rows < n, n + " rows in " + chunks + " chunks of " + rows);
            assertEquals(true, chunks == 1 || rows >= 64, n + " rows: chunks of " + rows);
        }
        assertEquals(1, ElementwiseKernels.slopeGradientChunks(127)[0]);
        assertEquals(2, ElementwiseKernels.slopeGradientChunks(128)[0]);
        Dropout d = Dropout.train(0.5f, 3, 4);
        kernels.preluSlopeGradient(300, 70, 75, 4, "dy", "z", "partial", d);
        assertEquals(List.of("prelu_slope_grad(i300, i70, i75, i4, dy, z, partial, f2.0, i1, l2147483648, l3, l4, l0, "
                + "l0, l1) 5 x 64"), log, "4 chunks of 70 columns: 280 work-items");
    }
}
