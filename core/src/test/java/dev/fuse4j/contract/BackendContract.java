package dev.fuse4j.contract;

import dev.fuse4j.Activation;
import dev.fuse4j.CrossEntropy;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.Tensor;
import dev.fuse4j.reference.Expected;
import dev.fuse4j.reference.Reference;
import dev.fuse4j.reference.TrainingReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The contract every backend meets, run by each backend module against itself (extend this class and implement
 * {@link #createBackend()}). Values are judged against the float64 {@link Reference} within the DESIGN.md bound,
 * masks bit for bit against the Philox contract. A backend that cannot run here is skipped with its reason.
 */
public abstract class BackendContract extends BackendSuite {

    // ---- shapes ----------------------------------------------------------------------------------------------

    /** {n, in, out}: sizes that break naive kernels (tiles, vector widths, multiples of 4, long K). */
    static final int[][] SHAPES = {
        {1, 1, 1}, {1, 7, 3}, {3, 5, 7}, {4, 4, 4}, {5, 3, 2}, {2, 9, 17}, {17, 33, 65}, {6, 32, 32}, {7, 33, 31},
        {64, 64, 64}, {65, 129, 33}, {33, 17, 129}, {13, 1, 9}, {2, 3000, 5}, {9, 4099, 3}, {130, 70, 257},
        {1100, 7, 5}, // a tall batch with few outputs: GPU backends split dw's long K across blocks
    };

    static Stream<Arguments> shapes() {
        return Arrays.stream(SHAPES).map(s -> Arguments.of(s[0], s[1], s[2]));
    }

    static Stream<Arguments> shapesAndP() {
        List<Arguments> a = new ArrayList<>();
        for (int[] s : SHAPES) {
            for (float p : new float[] {0f, 0.5f, 1f}) {
                a.add(Arguments.of(s[0], s[1], s[2], p));
            }
        }
        return a.stream();
    }

    static Stream<Arguments> activations() {
        return Stream.of(Arguments.of(Activation.relu()), Arguments.of(Activation.leakyRelu(0.1f)),
                Arguments.of(Activation.gelu()), Arguments.of(Activation.identity()));
    }

    // ---- forward ---------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "n={0} in={1} out={2} p={3}")
    @MethodSource("shapesAndP")
    void forwardMatchesFloat64Reference(int n, int in, int out, float p) {
        checkForward(n, in, out, Activation.relu(), Dropout.train(p, 42L + n, 7L * in), new Random(n * 31L + in));
    }

    @ParameterizedTest(name = "n={0} in={1} out={2}")
    @MethodSource("shapes")
    void evalForwardIsReluOfLinear(int n, int in, int out) {
        checkForward(n, in, out, Activation.relu(), Dropout.eval(), new Random(n * 17L + out));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void activationsMatchReferenceInTrainAndEval(Activation act) {
        for (int[] s : new int[][] {{1, 1, 1}, {7, 33, 31}, {65, 129, 33}, {3, 2050, 6}}) {
            checkForward(s[0], s[1], s[2], act, Dropout.train(0.3f, 99L, 5L), new Random(s[0] + 1000L * s[2]));
            checkForward(s[0], s[1], s[2], act, Dropout.eval(), new Random(s[0] + 1000L * s[2]));
        }
    }

    @Test
    void randomisedShapesMatchReference() {
        long seed = System.nanoTime();
        System.out.println("randomisedShapesMatchReference seed = " + seed);
        Random r = new Random(seed);
        for (int t = 0; t < 12; t++) {
            int n = 1 + r.nextInt(80);
            int in = 1 + r.nextInt(300);
            int out = 1 + r.nextInt(80);
            float p = r.nextFloat();
            Activation act = switch (r.nextInt(4)) {
                case 0 -> Activation.relu();
                case 1 -> Activation.leakyRelu(r.nextFloat());
                case 2 -> Activation.gelu();
                default -> Activation.identity();
            };
            Dropout d = Dropout.train(p, r.nextLong(), r.nextLong());
            try {
                checkForward(n, in, out, act, d, r);
                checkBackward(n, in, out, act, d, r);
            } catch (AssertionError e) {
                throw new AssertionError("seed " + seed + " case " + t + " n=" + n + " in=" + in + " out=" + out
                        + " " + act + " " + d + ": " + e.getMessage(), e);
            }
        }
    }

    @Test
    void pOfOneDropsEverythingAndZeroIsEval() {
        Random r = new Random(5);
        int n = 9, in = 21, out = 13;
        float[] x = randn(r, n * in), w = randn(r, out * in), b = randn(r, out);
        try (Tensor tx = backend.tensor(x, n, in); Tensor tw = backend.tensor(w, out, in); Tensor tb = backend.tensor(b, out);
             Tensor all = backend.linearReluDropout(tx, tw, tb, Dropout.train(1f, 3, 4));
             Tensor none = backend.linearReluDropout(tx, tw, tb, Dropout.train(0f, 3, 4));
             Tensor eval = backend.linearReluDropout(tx, tw, tb, Dropout.eval());
             Tensor dy = backend.tensor(randn(r, n * out), n, out);
             LinearGrads g = backend.linearReluDropoutBackward(dy, tx, tw, all, Dropout.train(1f, 3, 4))) {
            float[] a = all.toArray();
            for (float v : a) {
                assertEquals(0f, v, "p = 1 must drop every element");
            }
            assertArrayEquals(eval.toArray(), none.toArray(), "p = 0 in training must equal evaluation");
            for (Tensor t : new Tensor[] {g.dx(), g.dw(), g.db()}) {
                for (float v : t.toArray()) {
                    assertEquals(0f, v, "with p = 1 every gradient is 0");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void backwardWithoutInputGradientSkipsDxAndKeepsTheRest(Activation act) {
        Random r = new Random(31);
        for (int[] sh : new int[][] {{1, 1, 1}, {37, 65, 29}, {300, 40, 7}}) {
            int n = sh[0], in = sh[1], out = sh[2];
            Dropout d = Dropout.train(0.3f, 99L, 5L);
            try (Tensor tx = backend.tensor(randn(r, n * in), n, in); Tensor tw = backend.tensor(randn(r, out * in), out, in);
                 Tensor tb = backend.tensor(randn(r, out), out); Tensor tz = backend.zeros(n, out);
                 Tensor ty = backend.linear(tx, tw, tb, act, d, tz); Tensor tdy = backend.tensor(randn(r, n * out), n, out);
                 LinearGrads all = backend.linearBackward(tdy, tx, tw, ty, tz, act, d, true);
                 LinearGrads noDx = backend.linearBackward(tdy, tx, tw, ty, tz, act, d, false)) {
                assertNull(noDx.dx(), "dx was not asked for");
                assertArrayEquals(all.dw().toArray(), noDx.dw().toArray(), "dw must not depend on skipping dx");
                assertArrayEquals(all.db().toArray(), noDx.db().toArray(), "db must not depend on skipping dx");
            }
        }
    }

    void checkForward(int n, int in, int out, Activation act, Dropout d, Random r) {
        float[] x = randn(r, n * in), w = randn(r, out * in), b = randn(r, out);
        Reference.Forward ref = Reference.forward(x, w, b, n, in, out, act, d);
        final float[] y;
        final float[] z;
        try (Tensor tx = backend.tensor(x, n, in); Tensor tw = backend.tensor(w, out, in);
             Tensor tb = backend.tensor(b, out); Tensor tz = backend.zeros(n, out);
             Tensor ty = backend.linear(tx, tw, tb, act, d, tz)) {
            assertArrayEquals(new int[] {n, out}, ty.shape());
            y = ty.toArray();
            z = tz.toArray();
        }
        String where = act + ", " + d + ", n=" + n + " in=" + in + " out=" + out;
        assertWithin("pre-activation z", ref.z(), z, out, where);
        for (int e = 0; e < y.length; e++) {
            if (!ref.keep()[e] && y[e] != 0f) {
                fail("element " + idx(e, out) + " is dropped by the mask but y = " + y[e] + " (" + d + ")");
            }
        }
        assertWithin("y", ref.y(), y, out, where);
    }

    // ---- backward --------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "n={0} in={1} out={2} p={3}")
    @MethodSource("shapesAndP")
    void backwardMatchesFloat64Reference(int n, int in, int out, float p) {
        checkBackward(n, in, out, Activation.relu(), Dropout.train(p, 11L * n, 3L), new Random(n + 7L * out));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void backwardOfEveryActivation(Activation act) {
        for (int[] s : new int[][] {{1, 1, 1}, {7, 33, 31}, {65, 129, 33}, {2, 1500, 9}}) {
            checkBackward(s[0], s[1], s[2], act, Dropout.train(0.4f, 1234L, 77L), new Random(s[1]));
            checkBackward(s[0], s[1], s[2], act, Dropout.eval(), new Random(s[1] + 1));
        }
    }

    /**
     * Every output element is written, none summed into what the memory held: a backend may hand a closed tensor's
     * memory to the next output of its size (cpu does from 4096 floats up), so tensors of each output size of this
     * call, sizes no other test makes, are filled with NaN and closed first; a gradient the backend failed to clear
     * (db, with out past 4096) or a forward element it skipped comes out NaN.
     */
    @Test
    void outputsInRecycledMemoryAreWrittenInFull() {
        int n = 4, in = 1025, out = 4097;
        // ReLU reads the mask off y, GELU regenerates it: both dz paths
        Activation[] acts = {Activation.relu(), Activation.gelu()};
        Dropout[] ds = {Dropout.train(0.5f, 21L, 8L), Dropout.eval()};
        for (int c = 0; c < 2; c++) {
            for (int size : new int[] {n * out, n * in, out * in, out}) {
                leaveClosedNaNs(size);
            }
            checkBackward(n, in, out, acts[c], ds[c], new Random(out + c));
        }
    }

    /** Closes four tensors of {@code size} NaNs, for a backend that keeps closed tensors' memory to reuse. */
    private void leaveClosedNaNs(int size) {
        float[] nan = new float[size];
        Arrays.fill(nan, Float.NaN);
        List<Tensor> ts = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            ts.add(backend.tensor(nan, size));
        }
        ts.forEach(Tensor::close);
    }

    void checkBackward(int n, int in, int out, Activation act, Dropout d, Random r) {
        float[] x = randn(r, n * in), w = randn(r, out * in), b = randn(r, out), dy = randn(r, n * out);
        boolean[] keep = Reference.mask(n, out, d);
        float[] y, z, dx, dw, db;
        try (Tensor tx = backend.tensor(x, n, in); Tensor tw = backend.tensor(w, out, in);
             Tensor tb = backend.tensor(b, out); Tensor tz = backend.zeros(n, out);
             Tensor ty = backend.linear(tx, tw, tb, act, d, tz); Tensor tdy = backend.tensor(dy, n, out);
             LinearGrads g = backend.linearBackward(tdy, tx, tw, ty, tz, act, d)) {
            assertArrayEquals(new int[] {n, in}, g.dx().shape());
            assertArrayEquals(new int[] {out, in}, g.dw().shape());
            assertArrayEquals(new int[] {out}, g.db().shape());
            y = ty.toArray();
            z = tz.toArray();
            dx = g.dx().toArray();
            dw = g.dw().toArray();
            db = g.db().toArray();
        }
        Reference.Backward ref = Reference.backward(dy, x, w, y, z, keep, n, in, out, act, d);
        String where = act + ", " + d + ", n=" + n + " in=" + in + " out=" + out;
        assertWithin("dx", ref.dx(), dx, in, where);
        assertWithin("db", ref.db(), db, 1, where);
        assertWithin("dw", ref.dw(), dw, in, where);
    }

    /** Fails naming the first element of {@code got} (a row-major {@code [*, cols]} array) outside its bound. */
    private static void assertWithin(String name, Expected expected, float[] got, int cols, String where) {
        int e = expected.firstViolation(got);
        if (e >= 0) {
            String at = cols == 1 ? "[" + e + "]" : idx(e, cols);
            fail(name + at + " = " + got[e] + " but float64 gives " + expected.value()[e] + " (bound "
                    + expected.bound()[e] + ", " + where + ")");
        }
    }

    // ---- masks -----------------------------------------------------------------------------------------------

    static Stream<Arguments> maskCases() {
        return Stream.of(
                Arguments.of(1, 1, Dropout.train(0.5f, 0L, 0L)),
                Arguments.of(3, 5, Dropout.train(0.5f, 1L, 2L)),
                Arguments.of(17, 31, Dropout.train(0.1f, -1L, Long.MAX_VALUE)),
                Arguments.of(64, 65, Dropout.train(0.9f, 0x123456789ABCDEFL, 0xFEDCBA9876543210L)),
                Arguments.of(129, 257, Dropout.train(0.5f, 2024L, 1L << 32)),
                Arguments.of(7, 3, Dropout.train(1e-9f, 5L, 6L)),
                Arguments.of(5, 9, Dropout.train(0.999999f, 5L, 6L)),
                Arguments.of(4, 4, Dropout.train(1f, 5L, 6L)),
                Arguments.of(4, 4, Dropout.train(0f, 5L, 6L)),
                Arguments.of(11, 13, Dropout.eval()));
    }

    @ParameterizedTest(name = "{0}x{1} {2}")
    @MethodSource("maskCases")
    void maskIsBitExact(int rows, int cols, Dropout d) {
        boolean[] keep = Reference.mask(rows, cols, d);
        float[] m;
        try (Tensor t = backend.dropoutMask(rows, cols, d)) {
            assertArrayEquals(new int[] {rows, cols}, t.shape());
            m = t.toArray();
        }
        int differ = 0;
        for (int e = 0; e < m.length; e++) {
            if (m[e] != (keep[e] ? 1f : 0f)) {
                differ++;
            }
        }
        assertEquals(0, differ, differ + " of " + m.length + " mask elements differ from the Philox contract for " + d);
    }

    @Test
    void maskKeepsAboutOneMinusP() {
        try (Tensor t = backend.dropoutMask(256, 256, Dropout.train(0.25f, 77L, 0L))) {
            double kept = 0;
            for (float v : t.toArray()) {
                kept += v;
            }
            double frac = kept / (256 * 256);
            assertTrue(Math.abs(frac - 0.75) < 0.01, "kept fraction " + frac + " for p = 0.25");
        }
    }

    @Test
    void forwardUsesTheMaskOfDropoutMask() {
        Random r = new Random(8);
        int n = 31, in = 40, out = 27;
        Dropout d = Dropout.train(0.5f, 606L, 9L);
        // Positive bias and inputs make z > 0 everywhere, so y > 0 exactly where the mask keeps.
        float[] x = new float[n * in], w = new float[out * in], b = new float[out];
        for (int i = 0; i < x.length; i++) {
            x[i] = 0.1f + r.nextFloat();
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = 0.1f + r.nextFloat();
        }
        Arrays.fill(b, 1f);
        try (Tensor tx = backend.tensor(x, n, in); Tensor tw = backend.tensor(w, out, in);
             Tensor tb = backend.tensor(b, out); Tensor y = backend.linearReluDropout(tx, tw, tb, d);
             Tensor m = backend.dropoutMask(n, out, d)) {
            float[] yv = y.toArray(), mv = m.toArray();
            for (int e = 0; e < yv.length; e++) {
                assertEquals(mv[e], yv[e] > 0 ? 1f : 0f, "element " + e);
            }
        }
    }

    // ---- loss and optimizers ---------------------------------------------------------------------------------

    @Test
    void softmaxCrossEntropyMatchesReference() {
        Random r = new Random(3);
        for (int[] s : new int[][] {{1, 1}, {1, 10}, {7, 3}, {64, 10}, {33, 129}}) {
            int n = s[0], c = s[1];
            float[] logits = randn(r, n * c);
            for (int i = 0; i < logits.length; i++) {
                logits[i] *= 5; // large logits exercise the max-subtraction
            }
            float[] labels = new float[n];
            for (int i = 0; i < n; i++) {
                labels[i] = r.nextInt(c);
            }
            TrainingReference.CrossEntropy ref = TrainingReference.softmaxCrossEntropy(logits, labels, n, c);
            try (Tensor tl = backend.tensor(logits, n, c); Tensor tlab = backend.tensor(labels, n);
                 CrossEntropy ce = backend.softmaxCrossEntropy(tl, tlab)) {
                assertEquals(ref.loss(), ce.loss(), 1e-5 * (1 + Math.abs(ref.loss())), "loss for " + n + "x" + c);
                assertEquals(ref.correct(), ce.correct(), "correct count for " + n + "x" + c);
                float[] g = ce.grad().toArray();
                for (int e = 0; e < g.length; e++) {
                    assertEquals(ref.grad()[e], g[e], 1e-6, "gradient element " + e + " for " + n + "x" + c);
                }
            }
        }
    }

    @Test
    void sgdAndAdamMatchPyTorchFormulas() {
        Random r = new Random(4);
        int len = 1037;
        float[] p0 = randn(r, len), g = randn(r, len);
        float lr = 0.05f, mom = 0.9f, wd = 0.01f;
        double[] p = toDouble(p0), v = new double[len];
        try (Tensor tp = backend.tensor(p0, len); Tensor tg = backend.tensor(g, len); Tensor tv = backend.zeros(len)) {
            for (int step = 0; step < 3; step++) {
                backend.sgdStep(tp, tg, tv, lr, mom, wd);
                TrainingReference.sgdStep(p, v, g, lr, mom, wd);
            }
            assertClose(p, tp.toArray(), 1e-5, "SGD parameters after 3 steps");
            assertClose(v, tv.toArray(), 1e-5, "SGD velocity after 3 steps");
        }
        float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
        p = toDouble(p0);
        double[] m = new double[len];
        v = new double[len];
        try (Tensor tp = backend.tensor(p0, len); Tensor tg = backend.tensor(g, len); Tensor tm = backend.zeros(len);
             Tensor tv = backend.zeros(len)) {
            for (int step = 1; step <= 3; step++) {
                backend.adamStep(tp, tg, tm, tv, lr, b1, b2, eps, wd, step);
                TrainingReference.adamStep(p, m, v, g, lr, b1, b2, eps, wd, step);
            }
            assertClose(p, tp.toArray(), 1e-5, "Adam parameters after 3 steps");
            assertClose(m, tm.toArray(), 1e-5, "Adam first moment after 3 steps");
            assertClose(v, tv.toArray(), 1e-5, "Adam second moment after 3 steps");
        }
    }

    // ---- tensors and bad input -------------------------------------------------------------------------------

    @Test
    void tensorsRoundTripAndCopyTheirData() {
        float[] data = {1, 2, 3, 4, 5, 6};
        try (Tensor t = backend.tensor(data, 2, 3); Tensor z = backend.zeros(3, 2)) {
            data[0] = 99;
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toArray(), "tensor(...) must copy its data");
            assertArrayEquals(new int[] {2, 3}, t.shape());
            assertEquals(6, t.size());
            assertArrayEquals(new float[6], z.toArray());
            assertEquals(backend, t.backend());
        }
    }

    @Test
    void shapeMismatchesNameTheShapes() {
        try (Tensor x = backend.zeros(4, 3); Tensor w = backend.zeros(5, 7); Tensor b = backend.zeros(5);
             Tensor w2 = backend.zeros(5, 3); Tensor b2 = backend.zeros(6); Tensor y = backend.zeros(4, 5);
             Tensor dyBad = backend.zeros(4, 6); Tensor x1 = backend.zeros(12)) {
            expectIae(() -> backend.linearReluDropout(x, w, b, Dropout.eval()), "[4, 3]", "[5, 7]", "3", "7");
            expectIae(() -> backend.linearReluDropout(x, w2, b2, Dropout.eval()), "[6]", "[5, 3]");
            expectIae(() -> backend.linearReluDropout(x1, w2, b, Dropout.eval()), "x", "2 dimensions", "[12]");
            expectIae(() -> backend.linearReluDropoutBackward(dyBad, x, w2, y, Dropout.eval()), "dy", "[4, 6]", "[4, 5]");
            expectIae(() -> backend.linearReluDropout(x, w2, b, null), "dropout");
            expectIae(() -> backend.linear(x, w2, b, Activation.relu(), Dropout.eval(), dyBad), "preActivationOut");
            expectIae(() -> backend.linearBackward(y, x, w2, y, null, Activation.gelu(), Dropout.eval()),
                    "pre-activation");
        }
    }

    @Test
    void badDataAndDimensionsAreRefused() {
        expectIae(() -> backend.tensor(new float[5], 2, 3), "5", "[2, 3]", "6");
        expectIae(() -> backend.tensor(new float[0], 2, -3), "-3");
        expectIae(() -> backend.zeros(-1, 4), "-1");
        expectIae(() -> backend.zeros(0, 4), "zero");
        expectIae(() -> backend.tensor(null, 1), "null");
        expectIae(() -> backend.dropoutMask(-2, 3, Dropout.eval()), "-2");
        expectIae(() -> Dropout.train(1.5f, 0, 0), "1.5");
        expectIae(() -> Dropout.train(-0.1f, 0, 0), "-0.1");
        expectIae(() -> Dropout.train(Float.NaN, 0, 0), "NaN");
        expectIae(() -> Activation.leakyRelu(-1f), "-1.0");
    }

    @Test
    void closedTensorsAndForeignTensorsAreRefused() {
        Tensor x = backend.zeros(2, 2);
        x.close();
        x.close(); // idempotent
        assertTrue(x.isClosed());
        IllegalStateException ise = assertThrows(IllegalStateException.class, x::toArray);
        assertTrue(ise.getMessage().contains("closed"), ise.getMessage());
        try (Tensor w = backend.zeros(2, 2); Tensor b = backend.zeros(2)) {
            ise = assertThrows(IllegalStateException.class, () -> backend.linearReluDropout(x, w, b, Dropout.eval()));
            assertTrue(ise.getMessage().contains("x") && ise.getMessage().contains("closed"), ise.getMessage());
            try (Tensor foreign = ForeignBackend.INSTANCE.zeros(2, 2)) {
                expectIae(() -> backend.linearReluDropout(foreign, w, b, Dropout.eval()), "x", ForeignBackend.INSTANCE.name());
            }
        }
    }

    @Test
    void callsFromSeveralThreadsAgreeWithOneThread() throws Exception {
        Random r = new Random(12);
        int n = 37, in = 150, out = 29;
        float[] x = randn(r, n * in), w = randn(r, out * in), b = randn(r, out);
        try (Tensor tx = backend.tensor(x, n, in); Tensor tw = backend.tensor(w, out, in); Tensor tb = backend.tensor(b, out)) {
            float[][] expected = new float[8][];
            for (int t = 0; t < 8; t++) {
                try (Tensor y = backend.linearReluDropout(tx, tw, tb, Dropout.train(0.5f, t, t))) {
                    expected[t] = y.toArray();
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> results = new ArrayList<>();
                for (int rep = 0; rep < 4; rep++) {
                    for (int t = 0; t < 8; t++) {
                        int tt = t;
                        results.add(pool.submit(() -> {
                            try (Tensor y = backend.linearReluDropout(tx, tw, tb, Dropout.train(0.5f, tt, tt))) {
                                return y.toArray();
                            }
                        }));
                    }
                }
                for (int i = 0; i < results.size(); i++) {
                    assertArrayEquals(expected[i % 8], results.get(i).get(), "call " + i + " from a pool thread");
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    protected static float[] randn(Random r, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    private static void assertClose(double[] expected, float[] got, double tol, String what) {
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            if (!(Math.abs(got[i] - e) <= tol * (1 + Math.abs(e)))) {
                fail(what + ": element " + i + " is " + got[i] + " but float64 gives " + e);
            }
        }
    }

    private static String idx(int e, int out) {
        return "[" + (e / out) + "][" + (e % out) + "]";
    }

    private static void expectIae(org.junit.jupiter.api.function.Executable call, String... mustContain) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String s : mustContain) {
            assertTrue(e.getMessage().contains(s), "message '" + e.getMessage() + "' should mention '" + s + "'");
        }
    }
}
