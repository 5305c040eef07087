package dev.fuse4j.cpu;

import dev.fuse4j.Activation;
import dev.fuse4j.BatchNormGrads;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearStatistics;
import dev.fuse4j.Tensor;
import dev.fuse4j.spi.TensorBase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Batch norm on the vector path with each microkernel: the statistics the GEMM's epilogue sums are the separate
 * pass's bits and the documented merge of micro-panel partials, and every pass gives the same bits on 1, 2 and 3
 * threads (the partial sums are keyed by row groups the tiling fixes and merged in group order, the element passes'
 * sums by tasks of fixed rows). The accuracy against float64 is the contract suite's ({@code BatchNormContract}).
 */
@ParameterizedClass(name = "kernel {0}")
@EnumSource(Microkernel.class)
class VectorBatchNormTest {
    /** Pools of 1, 2 and 3 threads: a GEMM splits its rows into 4 tasks per thread, so each splits differently. */
    private static final WorkerPool[] POOLS = {new WorkerPool(1), new WorkerPool(2), new WorkerPool(3)};

    @Parameter
    Microkernel kernel;

    private final long liveBefore = TensorBase.liveCount();

    @BeforeEach
    void widthHonoured() {
        assumeTrue(Tuning.OPTION_PROBLEM == null, Tuning.OPTION_PROBLEM);
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(liveBefore, TensorBase.liveCount(), "tensors left open");
    }

    private VectorCpuBackend backendOn(WorkerPool pool) {
        return new VectorCpuBackend("cpu-test", pool, Tuning.BLOCKING.with(kernel), KernelWarmup.none());
    }

    /** Pass 1's statistics are bit for bit those of {@code batchNormStatistics} on its z, edge tiles included. */
    @Test
    void theEpiloguesStatisticsAreTheSeparatePassesBits() {
        VectorCpuBackend be = backendOn(POOLS[1]);
        Random r = new Random(3);
        int[][] shapes = {{1000, 16, 300}, {1001, 5, 67}, {kernel.rows() + 1, 9, 17}, {2, 3, 1}}; // n, in, out
        for (int[] s : shapes) {
            int n = s[0], in = s[1], out = s[2];
            try (Tensor x = be.tensor(values(r, n * in, 1f, 0f), n, in);
                 Tensor w = be.tensor(values(r, out * in, 0.5f, 0f), out, in);
                 Tensor b = be.tensor(values(r, out, 1f, 1000f), out);
                 LinearStatistics got = be.linearWithStatistics(x, w, b);
                 Tensor separate = be.batchNormStatistics(got.z())) {
                assertArrayEquals(separate.toArray(), got.stats().toArray(),
                        "n=" + n + " in=" + in + " out=" + out + ": the epilogue's statistics against the pass's");
            }
        }
    }

    /**
     * The statistics are bit for bit what docs/DESIGN.md says they are: per feature, float32 sums of each
     * micro-panel's rows in order shifted by its first row, merged in micro-panel order with Chan et al.'s update in
     * float64. Written out here element by element, so a partial left out, one not shifted, a merge in another order
     * or partials of another height all fail it, not only those that leave float64's bound.
     */
    @Test
    void statisticsAreTheDocumentedMergeOfMicroPanelPartials() {
        VectorCpuBackend be = backendOn(POOLS[1]);
        Random r = new Random(37);
        int n = 301, in = 7, out = 37;
        try (Tensor x = be.tensor(values(r, n * in, 1f, 0f), n, in);
             Tensor w = be.tensor(values(r, out * in, 0.5f, 0f), out, in);
             Tensor b = be.tensor(values(r, out, 1f, 1000f), out);
             LinearStatistics got = be.linearWithStatistics(x, w, b);
             Tensor separate = be.batchNormStatistics(got.z())) {
            float[] expected = documentedStatistics(got.z().toArray(), n, out, kernel.rows());
            assertArrayEquals(expected, got.stats().toArray(), "pass 1's statistics");
            assertArrayEquals(expected, separate.toArray(), "batchNormStatistics");
        }
    }

    /** The statistics as DESIGN.md's batch-norm section describes the cpu backend's, one element at a time. */
    private static float[] documentedStatistics(float[] z, int n, int out, int rows) {
        float[] stats = new float[2 * out];
        for (int j = 0; j < out; j++) {
            double mean = 0, m2 = 0;
            int merged = 0;
            for (int first = 0; first < n; first += rows) {
                int count = Math.min(rows, n - first);
                float c = z[first * out + j];
                float s1 = 0f, s2 = 0f;
                for (int i = first + 1; i < first + count; i++) {
                    float d = z[i * out + j] - c;
                    s1 += d;
                    s2 += d * d;
                }
                double meanB = c + (double) s1 / count;
                double m2B = s2 - (double) s1 * s1 / count;
                if (merged == 0) {
                    mean = meanB;
                    m2 = m2B;
                } else {
                    double delta = meanB - mean;
                    double total = merged + count;
                    mean += delta * count / total;
                    m2 += m2B + delta * delta * merged * count / total;
                }
                merged += count;
            }
            double var = m2 / n;
            stats[j] = (float) mean;
            stats[out + j] = var > 0 ? (float) var : 0f;
        }
        return stats;
    }

    /**
     * The statistics of pass 1 and of the separate pass, the normalised output and the backward's dz, dgamma and
     * dbeta: the same bits on 1, 2 and 3 threads, over 1000 rows and 300 features (many row groups and GEMM tasks).
     */
    @Test
    void everyPassGivesTheSameBitsOnOneTwoAndThreeThreads() {
        int n = 1000, in = 16, out = 300;
        Random r = new Random(29);
        float[] x = values(r, n * in, 1f, 0f), w = values(r, out * in, 0.5f, 0f), b = values(r, out, 1f, 1000f);
        float[] gamma = values(r, out, 0.2f, 1f), beta = values(r, out, 0.5f, 0f), dy = values(r, n * out, 1f, 0f);
        Dropout d = Dropout.train(0.3f, 41L, 2L);
        Activation act = Activation.leakyRelu(0.1f);
        String[] names = {"pass 1's z", "pass 1's statistics", "batchNormStatistics", "y", "dz", "dgamma", "dbeta"};
        float[][] first = null;
        for (WorkerPool pool : POOLS) {
            VectorCpuBackend be = backendOn(pool);
            try (Tensor tx = be.tensor(x, n, in); Tensor tw = be.tensor(w, out, in); Tensor tb = be.tensor(b, out);
                 LinearStatistics zs = be.linearWithStatistics(tx, tw, tb);
                 Tensor stats = be.batchNormStatistics(zs.z());
                 Tensor tg = be.tensor(gamma, out); Tensor tbeta = be.tensor(beta, out);
                 Tensor y = be.batchNormActivation(zs.z(), zs.stats(), tg, tbeta, 1e-5f, act, d);
                 Tensor tdy = be.tensor(dy, n, out);
                 BatchNormGrads g = be.batchNormBackward(tdy, y, zs.z(), zs.stats(), tg, tbeta, 1e-5f, act, d)) {
                float[][] now = {zs.z().toArray(), zs.stats().toArray(), stats.toArray(), y.toArray(),
                    g.dz().toArray(), g.dgamma().toArray(), g.dbeta().toArray()};
                if (first == null) {
                    first = now;
                    assertTrue(countZeros(now[3]) > n * out / 5, "the mask dropped too little to test it");
                    assertNotEquals(0f, now[1][out], "a variance of 0 tests nothing");
                } else {
                    for (int i = 0; i < now.length; i++) {
                        assertArrayEquals(first[i], now[i], names[i] + " on " + pool.threads() + " threads against 1");
                    }
                }
            }
        }
    }

    /**
     * GELU and ELU through the vector passes give the same y, dz, dgamma and dbeta on every call, from the first
     * (the element methods still interpreted or in C1) to the last (by then compiled by C2).
     */
    @Test
    void geluAndEluGiveTheSameBitsOnEveryCall() {
        int n = 256, out = 200, calls = 40;
        Random r = new Random(31);
        float[] z = values(r, n * out, 2f, 0f), gamma = values(r, out, 0.2f, 1f), beta = values(r, out, 0.5f, 0f);
        float[] dy = values(r, n * out, 1f, 0f), stats = new float[2 * out];
        for (int i = 0; i < n * out; i++) {
            stats[i % out] += z[i] / n;
        }
        for (int j = 0; j < out; j++) {
            stats[out + j] = 1f + j % 3;
        }
        VectorCpuBackend be = backendOn(POOLS[1]);
        Dropout d = Dropout.train(0.2f, 7L, 1L);
        for (Activation act : new Activation[] {Activation.gelu(), Activation.elu(1.5f)}) {
            float[][] first = null;
            for (int call = 0; call < calls; call++) {
                try (Tensor tz = be.tensor(z, n, out); Tensor ts = be.tensor(stats, 2, out);
                     Tensor tg = be.tensor(gamma, out); Tensor tb = be.tensor(beta, out);
                     Tensor y = be.batchNormActivation(tz, ts, tg, tb, 1e-5f, act, d);
                     Tensor tdy = be.tensor(dy, n, out);
                     BatchNormGrads g = be.batchNormBackward(tdy, y, tz, ts, tg, tb, 1e-5f, act, d)) {
                    float[][] now = {y.toArray(), g.dz().toArray(), g.dgamma().toArray(), g.dbeta().toArray()};
                    if (first == null) {
                        first = now;
                    } else {
                        String[] names = {"y", "dz", "dgamma", "dbeta"};
                        for (int i = 0; i < now.length; i++) {
                            assertArrayEquals(first[i], now[i], act + "'s " + names[i] + " on call " + (call + 1));
                        }
                    }
                }
            }
        }
    }

    private static int countZeros(float[] a) {
        int zeros = 0;
        for (float v : a) {
            zeros += v == 0f ? 1 : 0;
        }
        return zeros;
    }

    private static float[] values(Random r, int count, float spread, float centre) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = centre + spread * (float) r.nextGaussian();
        }
        return a;
    }
}
