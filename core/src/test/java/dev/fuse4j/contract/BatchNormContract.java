package dev.fuse4j.contract;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.BatchNormGrads;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.LinearStatistics;
import dev.fuse4j.Tensor;
import dev.fuse4j.reference.BatchNormReference;
import dev.fuse4j.reference.Expected;
import dev.fuse4j.reference.Reference;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Batch normalisation's backend operations on every backend ({@link BackendContract} runs these cases): the
 * statistics, the normalisation fused with activation and mask, and the backward against the float64
 * {@link BatchNormReference}; the composed layer's gradients against finite differences in float64; the same bits on
 * every run; the fused layer's mask; clear refusals.
 */
interface BatchNormContract {

    /** The backend the suite opened for this test. */
    Backend backendUnderTest();

    /** {n, out}: one row, odd sizes, more rows than a work-group, few features. */
    int[][] BN_SHAPES = {{1, 1}, {2, 3}, {5, 7}, {64, 33}, {130, 70}, {300, 5}};

    Activation[] BN_ACTIVATIONS = {Activation.relu(), Activation.leakyRelu(0.1f), Activation.gelu(),
        Activation.identity(), Activation.elu(1.5f)};

    /**
     * Means far from 0 against a spread of about 1 (a mean of 1000 and a spread of 2): sums of unshifted squares
     * lose the variance to cancellation there, which the reference's bound does not allow.
     */
    @Test
    default void batchNormStatisticsMatchFloat64EvenWhenTheMeanDwarfsTheSpread() {
        Backend be = backendUnderTest();
        Random r = new Random(3);
        for (int[] s : BN_SHAPES) {
            for (float offset : new float[] {0f, 1000f}) {
                float[] z = values(r, s[0] * s[1], 2f, offset);
                float[] got;
                try (Tensor tz = be.tensor(z, s[0], s[1]); Tensor stats = be.batchNormStatistics(tz)) {
                    assertArrayEquals(new int[] {2, s[1]}, stats.shape());
                    got = stats.toArray();
                }
                within("statistics", BatchNormReference.statistics(z, s[0], s[1]), got,
                        "n=" + s[0] + " out=" + s[1] + " mean offset " + offset);
            }
        }
    }

    /**
     * Pass 1 in one call: z bit for bit the identity layer's, the statistics within float64's bound of z's (a bias
     * of 1000 puts the mean far from the spread), and the same bits on a second run.
     */
    @Test
    default void linearWithStatisticsGivesTheLayersZAndItsStatistics() {
        Backend be = backendUnderTest();
        Random r = new Random(11);
        int[][] shapes = {{1, 1, 1}, {2, 5, 3}, {37, 19, 70}, {130, 64, 33}, {300, 8, 5}}; // n, in, out
        for (int[] s : shapes) {
            for (float bias : new float[] {0f, 1000f}) {
                int n = s[0], in = s[1], out = s[2];
                String where = "n=" + n + " in=" + in + " out=" + out + " bias " + bias;
                try (Tensor x = be.tensor(values(r, n * in, 1f, 0f), n, in);
                     Tensor w = be.tensor(values(r, out * in, 0.5f, 0f), out, in);
                     Tensor b = be.tensor(values(r, out, 0.5f, bias), out);
                     LinearStatistics got = be.linearWithStatistics(x, w, b);
                     LinearStatistics again = be.linearWithStatistics(x, w, b);
                     Tensor z = be.linear(x, w, b, Activation.identity(), Dropout.eval(), null)) {
                    assertArrayEquals(new int[] {n, out}, got.z().shape(), where);
                    assertArrayEquals(new int[] {2, out}, got.stats().shape(), where);
                    float[] zs = z.toArray();
                    assertArrayEquals(zs, got.z().toArray(), "z against linear's, " + where);
                    float[] stats = got.stats().toArray();
                    within("statistics", BatchNormReference.statistics(zs, n, out), stats, where);
                    assertArrayEquals(stats, again.stats().toArray(), "statistics of a second run, " + where);
                }
            }
        }
    }

    /**
     * Pass 1 over many row blocks and column panels (1000 rows, 300 features: every task split a GEMM makes), tiles
     * cut by the edges in both directions and a single row, with a mean of 1000 against a spread of 2: z bit for bit
     * the identity layer's and the statistics within float64's bound (a partial sum left out, or one not shifted
     * into the spread, misses it).
     */
    @Test
    default void linearWithStatisticsHoldsOverManyRowBlocksAndEdgeTilesWhenTheMeanDwarfsTheSpread() {
        Backend be = backendUnderTest();
        Random r = new Random(23);
        int[][] shapes = {{1000, 16, 300}, {1001, 5, 67}, {13, 3, 65}, {2, 40, 1}}; // n, in, out
        for (int[] s : shapes) {
            int n = s[0], in = s[1], out = s[2];
            String where = "n=" + n + " in=" + in + " out=" + out + ", mean 1000, spread 2";
            try (Tensor x = be.tensor(values(r, n * in, 1f, 0f), n, in);
                 Tensor w = be.tensor(values(r, out * in, 2f / (float) Math.sqrt(in), 0f), out, in);
                 Tensor b = be.tensor(values(r, out, 0.01f, 1000f), out);
                 LinearStatistics got = be.linearWithStatistics(x, w, b);
                 Tensor z = be.linear(x, w, b, Activation.identity(), Dropout.eval(), null)) {
                float[] zs = z.toArray();
                assertArrayEquals(zs, got.z().toArray(), "z against linear's, " + where);
                within("statistics", BatchNormReference.statistics(zs, n, out), got.stats().toArray(), where);
            }
        }
    }

    @Test
    default void linearWithStatisticsRefusesMismatchedShapesNamingThem() {
        Backend be = backendUnderTest();
        try (Tensor x = be.zeros(4, 3); Tensor w = be.zeros(2, 5); Tensor b = be.zeros(2); Tensor w3 = be.zeros(2, 3);
             Tensor b3 = be.zeros(3)) {
            refused(() -> be.linearWithStatistics(x, w, b), "[4, 3]", "[2, 5]");
            refused(() -> be.linearWithStatistics(x, w3, b3), "[3]", "[2, 3]");
        }
    }

    @Test
    default void batchNormForwardMatchesFloat64ForEveryActivationInTrainAndEval() {
        Random r = new Random(5);
        for (Activation act : BN_ACTIVATIONS) {
            for (int[] s : BN_SHAPES) {
                for (Dropout d : new Dropout[] {Dropout.train(0.3f, 77L + s[0], 5L), Dropout.eval()}) {
                    for (float eps : new float[] {1e-5f, 0.5f}) { // a large eps that a dropped eps would miss
                        checkBatchNormForward(s[0], s[1], act, d, eps, r);
                    }
                }
            }
        }
    }

    /**
     * Channel and variational dropout in the batch-norm pass: forward and backward draw the mask of the mask index
     * rule (a pass drawing one index per element fails the reference's mask).
     */
    @Test
    default void batchNormDrawsChannelAndVariationalMasks() {
        Random r = new Random(9);
        Dropout half = Dropout.train(0.5f, 4242L, 3L);
        for (Dropout d : new Dropout[] {half.channels(3), half.variational(4),
            half.channels(3).variational(2).withElementBase(18)}) {
            for (Activation act : new Activation[] {Activation.relu(), Activation.gelu()}) {
                checkBatchNormForward(24, 9, act, d, 1e-5f, r);
                checkBatchNormBackward(24, 9, act, d, 1e-5f, r);
            }
        }
    }

    private void checkBatchNormForward(int n, int out, Activation act, Dropout d, float eps, Random r) {
        Backend be = backendUnderTest();
        float[] z = values(r, n * out, 2f, 0.5f), gamma = values(r, out, 1f, 1f), beta = values(r, out, 0.5f, 0f);
        float[] y;
        try (Tensor tz = be.tensor(z, n, out); Tensor stats = be.batchNormStatistics(tz);
             Tensor tg = be.tensor(gamma, out); Tensor tb = be.tensor(beta, out);
             Tensor ty = be.batchNormActivation(tz, stats, tg, tb, eps, act, d)) {
            assertArrayEquals(new int[] {n, out}, ty.shape());
            y = ty.toArray();
        }
        BatchNormReference.Forward ref = BatchNormReference.forward(z, gamma, beta, eps, n, out, act, d);
        String where = act + ", " + d + ", eps " + eps + ", n=" + n + " out=" + out;
        for (int e = 0; e < y.length; e++) {
            if (!ref.keep()[e] && y[e] != 0f) {
                fail("element " + e + " is dropped by the mask but y = " + y[e] + " (" + where + ")");
            }
        }
        within("y", ref.y(), y, where);
    }

    @Test
    default void batchNormBackwardMatchesFloat64ForEveryActivationInTrainAndEval() {
        Random r = new Random(7);
        for (Activation act : BN_ACTIVATIONS) {
            for (int[] s : BN_SHAPES) {
                for (Dropout d : new Dropout[] {Dropout.train(0.4f, 1234L, 77L), Dropout.eval()}) {
                    checkBatchNormBackward(s[0], s[1], act, d, s[0] == 5 ? 0.5f : 1e-5f, r);
                }
            }
        }
    }

    private void checkBatchNormBackward(int n, int out, Activation act, Dropout d, float eps, Random r) {
        Backend be = backendUnderTest();
        float[] z = values(r, n * out, 2f, -0.3f), gamma = values(r, out, 1f, 1f), beta = values(r, out, 0.5f, 0f);
        float[] dy = values(r, n * out, 1f, 0f);
        float[] y, dz, dgamma, dbeta;
        try (Tensor tz = be.tensor(z, n, out); Tensor stats = be.batchNormStatistics(tz);
             Tensor tg = be.tensor(gamma, out); Tensor tb = be.tensor(beta, out);
             Tensor ty = be.batchNormActivation(tz, stats, tg, tb, eps, act, d);
             Tensor tdy = be.tensor(dy, n, out);
             BatchNormGrads g = be.batchNormBackward(tdy, ty, tz, stats, tg, tb, eps, act, d)) {
            assertArrayEquals(new int[] {n, out}, g.dz().shape());
            assertArrayEquals(new int[] {out}, g.dgamma().shape());
            assertArrayEquals(new int[] {out}, g.dbeta().shape());
            y = ty.toArray();
            dz = g.dz().toArray();
            dgamma = g.dgamma().toArray();
            dbeta = g.dbeta().toArray();
        }
        BatchNormReference.Backward ref = BatchNormReference.backward(dy, y, z, gamma, beta, eps, n, out, act, d);
        String where = act + ", " + d + ", eps " + eps + ", n=" + n + " out=" + out;
        within("dbeta", ref.dbeta(), dbeta, where);
        within("dgamma", ref.dgamma(), dgamma, where);
        within("dz", ref.dz(), dz, where);
    }

    /**
     * The whole layer in training, {@code y = dropout(act(bn(x·Wᵀ + b)))}: the gradients of {@code L = Σ g·y} that
     * batch norm's backward and the layer's backward give for x, W, b, gamma and beta against central differences
     * of the float64 forward, under the same mask.
     */
    @Test
    default void batchNormLayerGradientsMatchFiniteDifferencesOfFloat64() {
        Backend be = backendUnderTest();
        int n = 6, in = 5, out = 4;
        float eps = 1e-3f;
        Dropout d = Dropout.train(0.3f, 42L, 3L);
        for (Activation act : new Activation[] {Activation.gelu(), Activation.identity(), Activation.elu(0.7f)}) {
            Random r = new Random(11);
            float[][] at = {values(r, n * in, 1f, 0f), values(r, out * in, 1f, 0f), values(r, out, 1f, 0f),
                values(r, out, 0.5f, 1f), values(r, out, 0.5f, 0f)}; // x, W, b, gamma, beta
            float[] g = values(r, n * out, 1f, 0f);
            float[][] analytic = new float[5][];
            try (Tensor x = be.tensor(at[0], n, in); Tensor w = be.tensor(at[1], out, in);
                 Tensor b = be.tensor(at[2], out); Tensor gamma = be.tensor(at[3], out);
                 Tensor beta = be.tensor(at[4], out);
                 Tensor z = be.linear(x, w, b, Activation.identity(), Dropout.eval(), null);
                 Tensor stats = be.batchNormStatistics(z);
                 Tensor y = be.batchNormActivation(z, stats, gamma, beta, eps, act, d);
                 Tensor dy = be.tensor(g, n, out);
                 BatchNormGrads bn = be.batchNormBackward(dy, y, z, stats, gamma, beta, eps, act, d);
                 LinearGrads lin = be.linearBackward(bn.dz(), x, w, bn.dz(), null, Activation.identity(),
                         Dropout.eval())) {
                analytic[0] = lin.dx().toArray();
                analytic[1] = lin.dw().toArray();
                analytic[2] = lin.db().toArray();
                analytic[3] = bn.dgamma().toArray();
                analytic[4] = bn.dbeta().toArray();
            }
            boolean[] keep = Reference.mask(n, out, d);
            double scale = Reference.scale(d);
            String[] names = {"dx", "dW", "db", "dgamma", "dbeta"};
            double h = 1e-6;
            for (int t = 0; t < 5; t++) {
                double largest = 0;
                for (float v : analytic[t]) {
                    largest = Math.max(largest, Math.abs(v));
                }
                for (int i = 0; i < at[t].length; i++) {
                    double[][] plus = widen(at), minus = widen(at);
                    plus[t][i] += h;
                    minus[t][i] -= h;
                    double fd = (loss(plus, g, n, in, out, eps, act, keep, scale)
                            - loss(minus, g, n, in, out, eps, act, keep, scale)) / (2 * h);
                    double tol = 1e-3 * Math.max(largest, 1e-2) + 1e-4 * Math.abs(fd);
                    assertTrue(Math.abs(fd - analytic[t][i]) <= tol, act + " " + names[t] + "[" + i
                            + "]: finite difference " + fd + ", backward " + analytic[t][i] + " (tolerance " + tol
                            + ")");
                }
            }
        }
    }

    /** {@code Σ g·y} of the layer in float64 at {@code v = {x, W, b, gamma, beta}}. */
    private static double loss(double[][] v, float[] g, int n, int in, int out, float eps, Activation act,
                               boolean[] keep, double scale) {
        double[] z = new double[n * out];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                double s = v[2][j];
                for (int k = 0; k < in; k++) {
                    s += v[0][i * in + k] * v[1][j * in + k];
                }
                z[i * out + j] = s;
            }
        }
        double[] y = BatchNormReference.outputOf(z, v[3], v[4], eps, n, out, act, keep, scale);
        double l = 0;
        for (int e = 0; e < y.length; e++) {
            l += g[e] * y[e];
        }
        return l;
    }

    private static double[][] widen(float[][] a) {
        double[][] w = new double[a.length][];
        for (int t = 0; t < a.length; t++) {
            w[t] = new double[a[t].length];
            for (int i = 0; i < a[t].length; i++) {
                w[t][i] = a[t][i];
            }
        }
        return w;
    }

    /** The statistics, the output and every gradient are the same bits on a second run of the same call. */
    @Test
    default void batchNormGivesTheSameBitsEveryRun() {
        Backend be = backendUnderTest();
        int n = 300, out = 70;
        Random r = new Random(17);
        float[] z = values(r, n * out, 3f, 10f), gamma = values(r, out, 1f, 1f), beta = values(r, out, 1f, 0f);
        float[] dy = values(r, n * out, 1f, 0f);
        Dropout d = Dropout.train(0.5f, 9L, 4L);
        float[][] first = null;
        for (int run = 0; run < 2; run++) {
            try (Tensor tz = be.tensor(z, n, out); Tensor stats = be.batchNormStatistics(tz);
                 Tensor tg = be.tensor(gamma, out); Tensor tb = be.tensor(beta, out);
                 Tensor ty = be.batchNormActivation(tz, stats, tg, tb, 1e-5f, Activation.gelu(), d);
                 Tensor tdy = be.tensor(dy, n, out);
                 BatchNormGrads g = be.batchNormBackward(tdy, ty, tz, stats, tg, tb, 1e-5f, Activation.gelu(), d)) {
                float[][] now = {stats.toArray(), ty.toArray(), g.dz().toArray(), g.dgamma().toArray(),
                    g.dbeta().toArray()};
                if (first == null) {
                    first = now;
                } else {
                    String[] names = {"statistics", "y", "dz", "dgamma", "dbeta"};
                    for (int i = 0; i < now.length; i++) {
                        assertArrayEquals(first[i], now[i], names[i] + " differs between two runs of one call");
                    }
                }
            }
        }
    }

    /** The normalised output is dropped exactly where the fused layer's mask ({@link Backend#dropoutMask}) drops. */
    @Test
    default void batchNormDropsWithTheFusedLayersMask() {
        Backend be = backendUnderTest();
        int n = 37, out = 29;
        Random r = new Random(19);
        float[] z = values(r, n * out, 1f, 0f), gamma = values(r, out, 0.1f, 1f), beta = values(r, out, 0.1f, 3f);
        for (Dropout d : new Dropout[] {Dropout.train(0.5f, 123L, 6L), Dropout.train(0.5f, 123L, 6L).withElementBase(
                5L * out), Dropout.train(0.2f, -1L, 1L << 33)}) {
            try (Tensor tz = be.tensor(z, n, out); Tensor stats = be.batchNormStatistics(tz);
                 Tensor tg = be.tensor(gamma, out); Tensor tb = be.tensor(beta, out);
                 Tensor ty = be.batchNormActivation(tz, stats, tg, tb, 1e-5f, Activation.identity(), d);
                 Tensor mask = be.dropoutMask(n, out, d)) {
                float[] y = ty.toArray(), m = mask.toArray();
                for (int e = 0; e < y.length; e++) { // beta near 3 keeps every kept u well away from 0
                    assertEquals(m[e] != 0f, y[e] != 0f, "element " + e + " of " + d + ": mask " + m[e] + ", y "
                            + y[e]);
                }
            }
        }
    }

    @Test
    default void batchNormRefusesMismatchedShapesAndBadEpsNamingThem() {
        Backend be = backendUnderTest();
        try (Tensor z = be.zeros(4, 3); Tensor stats = be.batchNormStatistics(z); Tensor g = be.zeros(3);
             Tensor b = be.zeros(3); Tensor g4 = be.zeros(4); Tensor wrongStats = be.zeros(2, 4);
             Tensor dy = be.zeros(4, 2); Tensor y = be.batchNormActivation(z, stats, g, b, 1e-5f,
                     Activation.relu(), Dropout.eval())) {
            refused(() -> be.batchNormActivation(z, wrongStats, g, b, 1e-5f, Activation.relu(), Dropout.eval()),
                    "stats", "[2, 4]", "[2, 3]");
            refused(() -> be.batchNormActivation(z, stats, g4, b, 1e-5f, Activation.relu(), Dropout.eval()),
                    "gamma", "[4]", "[3]");
            refused(() -> be.batchNormActivation(z, stats, g, g4, 1e-5f, Activation.relu(), Dropout.eval()),
                    "beta", "[4]", "[3]");
            for (float eps : new float[] {0f, -1f, Float.NaN, Float.POSITIVE_INFINITY}) {
                refused(() -> be.batchNormActivation(z, stats, g, b, eps, Activation.relu(), Dropout.eval()),
                        "eps", String.valueOf(eps));
            }
            refused(() -> be.batchNormBackward(dy, y, z, stats, g, b, 1e-5f, Activation.relu(), Dropout.eval()),
                    "dy", "[4, 2]", "[4, 3]");
            refused(() -> be.batchNormStatistics(g), "z", "2 dimensions", "[3]");
            refused(() -> be.batchNormActivation(z, stats, g, b, 1e-5f, Activation.prelu(g), Dropout.eval()),
                    "PReLU cannot follow batch norm");
            refused(() -> be.batchNormActivation(z, stats, g, b, 1e-5f, Activation.relu(),
                    Dropout.dropConnect(0.5f, 1L, 0L)), "DropConnect masks the weights");
        }
    }

    private static void refused(org.junit.jupiter.api.function.Executable call, String... mustContain) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String s : mustContain) {
            assertTrue(e.getMessage().contains(s), "'" + e.getMessage() + "' does not name " + s);
        }
    }

    private static void within(String name, Expected expected, float[] got, String where) {
        int e = expected.firstViolation(got);
        if (e >= 0) {
            fail(name + "[" + e + "] = " + got[e] + " but float64 gives " + expected.value()[e] + " (bound "
                    + expected.bound()[e] + ", " + where + ")");
        }
    }

    /** Gaussian values of the given spread around {@code centre}. */
    private static float[] values(Random r, int count, float spread, float centre) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = centre + spread * (float) r.nextGaussian();
        }
        return a;
    }
}
