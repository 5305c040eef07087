package dev.fuse4j.opencl;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearStatistics;
import dev.fuse4j.Tensor;
import dev.fuse4j.reference.BatchNormReference;
import dev.fuse4j.reference.Expected;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batch norm's statistics taken in the GEMM's epilogue ({@code linearWithStatistics}) with each tile tier forced
 * alone, on shapes cut to that tier's tile: one row tile, whole row tiles, many row tiles with an edge tile of a
 * few rows, and an edge column tile, with means of 0 and of 1000 (a spread of about 2). Forward never splits K, so
 * the tiers are all the ways the call can run. z must be the plain layer's bit for bit, the statistics within
 * {@link BatchNormReference}'s float64 bound and the same bits on a second run.
 */
class StatisticsEpilogueTest {

    static Stream<TileConfig> tiers() {
        return Stream.of(TileConfig.GPU.get(0), TileConfig.GPU.get(1), TileConfig.GPU.get(2), TileConfig.GPU.get(3),
                TileConfig.cpu(16).get(0), TileConfig.cpu(8).get(0), TileConfig.cpu(4).get(0));
    }

    @ParameterizedTest
    @MethodSource("tiers")
    void statisticsOfEveryRowTileMatchFloat64(TileConfig tier) {
        Backend be = TileTierContractTest.forced(tier);
        int bm = tier.bm(), bn = tier.bn();
        int[][] shapes = {{bm - 1, 5, bn}, {2 * bm, 9, bn + 3}, {9 * bm + 3, 17, 2 * bn + 1}, {bm + 1, 3, 1}};
        Random r = new Random(31);
        for (int[] s : shapes) {
            for (float mean : new float[] {0f, 1000f}) {
                check(be, s[0], s[1], s[2], mean, r, "tiles " + tier);
            }
        }
    }

    private static void check(Backend be, int n, int in, int out, float mean, Random r, String tier) {
        String where = tier + ", " + n + "x" + in + "->" + out + ", mean " + mean;
        float[] x = values(r, n * in, 1f, 0f);
        float[] w = values(r, out * in, 1f / (float) Math.sqrt(in), 0f);
        float[] b = values(r, out, 0.5f, mean);
        try (Tensor tx = be.tensor(x, n, in); Tensor tw = be.tensor(w, out, in); Tensor tb = be.tensor(b, out);
             Tensor plain = be.linear(tx, tw, tb, Activation.identity(), Dropout.eval(), null);
             LinearStatistics got = be.linearWithStatistics(tx, tw, tb);
             LinearStatistics again = be.linearWithStatistics(tx, tw, tb)) {
            float[] z = plain.toArray();
            assertArrayEquals(z, got.z().toArray(), "z against the plain layer's, " + where);
            float[] stats = got.stats().toArray();
            Expected want = BatchNormReference.statistics(z, n, out);
            int e = want.firstViolation(stats);
            assertTrue(e < 0, () -> (e < out ? "mean" : "variance") + " of feature " + e % out + " = " + stats[e]
                    + " but float64 gives " + want.value()[e] + " (bound " + want.bound()[e] + ", " + where + ")");
            assertArrayEquals(stats, again.stats().toArray(), "statistics of a second run, " + where);
        }
    }

    /** {@code len} values uniform in {@code offset ± scale·2}. */
    private static float[] values(Random r, int len, float scale, float offset) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = offset + (r.nextFloat() * 2 - 1) * 2 * scale;
        }
        return a;
    }
}
