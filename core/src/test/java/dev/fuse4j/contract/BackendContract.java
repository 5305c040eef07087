package dev.fuse4j.contract;

import dev.fuse4j.Activation;
import dev.fuse4j.CrossEntropy;
import dev.fuse4j.DeviceMemoryException;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.Philox;
import dev.fuse4j.Tensor;
import dev.fuse4j.reference.DropConnectReference;
import dev.fuse4j.reference.Expected;
import dev.fuse4j.reference.Reference;
import dev.fuse4j.reference.TrainingReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The contract every backend meets, run by each backend module against itself (extend this class and implement
 * {@link #createBackend()}). Values are judged against the float64 {@link Reference} within the DESIGN.md bound,
 * masks bit for bit against the Philox contract. A backend that cannot run here is skipped with its reason.
 * Batch normalisation's cases are in {@link BatchNormContract}.
 */
public abstract class BackendContract extends BackendSuite implements BatchNormContract {

    @Override
    public dev.fuse4j.Backend backendUnderTest() {
        return backend;
    }

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
                Arguments.of(Activation.gelu()), Arguments.of(Activation.identity()),
                Arguments.of(Activation.elu(1.5f)), Arguments.of(Activation.prelu()));
    }

    /**
     * PReLU's slopes in these tests for a layer of {@code out} columns: negative, between 0 and 1, zero, past 1, in
     * turn, so each side and sign meets every column residue of the kernels' vectors and tiles.
     */
    static float[] preluSlopes(int out) {
        float[] pattern = {-0.5f, 0.25f, 0f, 1.75f, 0.01f, -1.25f, 1f};
        float[] a = new float[out];
        for (int j = 0; j < out; j++) {
            a[j] = pattern[j % pattern.length];
        }
        return a;
    }

    /**
     * An activation as the fused op takes it, with the slope tensor it owns: PReLU's layer form
     * ({@link Activation#prelu()}) bound to a new tensor of {@link #preluSlopes}, the others as they are (no tensor).
     */
    record Bound(Activation act, float[] slope, Tensor tensor) implements AutoCloseable {
        @Override
        public void close() {
            if (tensor != null) {
                tensor.close();
            }
        }
    }

    /** {@code act} bound for a layer of {@code out} columns on the backend under test (see {@link Bound}). */
    Bound bind(Activation act, int out) {
        if (act.kind() != Activation.Kind.PRELU || act.slope() != null) {
            return new Bound(act, null, null);
        }
        float[] a = preluSlopes(out);
        Tensor t = backend.tensor(a, out);
        return new Bound(Activation.prelu(t), a, t);
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
            Activation act = switch (r.nextInt(6)) {
                case 0 -> Activation.relu();
                case 1 -> Activation.leakyRelu(r.nextFloat());
                case 2 -> Activation.gelu();
                case 3 -> Activation.elu(0.05f + 2 * r.nextFloat());
                case 4 -> Activation.prelu();
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
            try (Bound a = bind(act, out); Tensor tx = backend.tensor(randn(r, n * in), n, in);
                 Tensor tw = backend.tensor(randn(r, out * in), out, in);
                 Tensor tb = backend.tensor(randn(r, out), out); Tensor tz = backend.zeros(n, out);
                 Tensor ty = backend.linear(tx, tw, tb, a.act(), d, tz); Tensor tdy = backend.tensor(randn(r, n * out), n, out);
                 LinearGrads all = backend.linearBackward(tdy, tx, tw, ty, tz, a.act(), d, true);
                 LinearGrads noDx = backend.linearBackward(tdy, tx, tw, ty, tz, a.act(), d, false)) {
                assertNull(noDx.dx(), "dx was not asked for");
                assertArrayEquals(all.dw().toArray(), noDx.dw().toArray(), "dw must not depend on skipping dx");
                assertArrayEquals(all.db().toArray(), noDx.db().toArray(), "db must not depend on skipping dx");
                if (a.slope() != null) {
                    assertArrayEquals(all.da().toArray(), noDx.da().toArray(), "da must not depend on skipping dx");
                }
            }
        }
    }

    void checkForward(int n, int in, int out, Activation act, Dropout d, Random r) {
        checkForward(n, in, out, act, d, randn(r, n * in), randn(r, out * in), randn(r, out));
    }

    /** Forward of the given inputs against float64; a NaN or an infinity must come out as float64 has it. */
    void checkForward(int n, int in, int out, Activation act, Dropout d, float[] x, float[] w, float[] b) {
        final float[] y;
        final float[] z;
        final Reference.Forward ref;
        try (Bound a = bind(act, out); Tensor tx = backend.tensor(x, n, in); Tensor tw = backend.tensor(w, out, in);
             Tensor tb = backend.tensor(b, out); Tensor tz = backend.zeros(n, out);
             Tensor ty = backend.linear(tx, tw, tb, a.act(), d, tz)) {
            ref = Reference.forward(x, w, b, n, in, out, act, d, a.slope());
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
        // ReLU reads the mask off y, GELU regenerates it: both dz paths; PReLU's slope gradient da is a sum too
        Activation[] acts = {Activation.relu(), Activation.gelu(), Activation.prelu()};
        Dropout[] ds = {Dropout.train(0.5f, 21L, 8L), Dropout.eval(), Dropout.train(0.25f, 3L, 4L)};
        for (int c = 0; c < acts.length; c++) {
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
        checkBackward(n, in, out, act, d, randn(r, n * in), randn(r, out * in), randn(r, out), randn(r, n * out));
    }

    /** Backward of the given inputs against float64; a NaN or an infinity must come out as float64 has it. */
    void checkBackward(int n, int in, int out, Activation act, Dropout d, float[] x, float[] w, float[] b,
                       float[] dy) {
        boolean[] keep = Reference.mask(n, out, d);
        float[] y, z, dx, dw, db, da, slope;
        try (Bound a = bind(act, out); Tensor tx = backend.tensor(x, n, in); Tensor tw = backend.tensor(w, out, in);
             Tensor tb = backend.tensor(b, out); Tensor tz = backend.zeros(n, out);
             Tensor ty = backend.linear(tx, tw, tb, a.act(), d, tz); Tensor tdy = backend.tensor(dy, n, out);
             LinearGrads g = backend.linearBackward(tdy, tx, tw, ty, tz, a.act(), d)) {
            assertArrayEquals(new int[] {n, in}, g.dx().shape());
            assertArrayEquals(new int[] {out, in}, g.dw().shape());
            assertArrayEquals(new int[] {out}, g.db().shape());
            y = ty.toArray();
            z = tz.toArray();
            dx = g.dx().toArray();
            dw = g.dw().toArray();
            db = g.db().toArray();
            slope = a.slope();
            if (slope == null) {
                assertNull(g.da(), "only PReLU has a slope gradient");
                da = null;
            } else {
                assertArrayEquals(new int[] {out}, g.da().shape());
                da = g.da().toArray();
            }
        }
        Reference.Backward ref = Reference.backward(dy, x, w, y, z, keep, n, in, out, act, d, slope);
        String where = act + ", " + d + ", n=" + n + " in=" + in + " out=" + out;
        assertWithin("dx", ref.dx(), dx, in, where);
        assertWithin("db", ref.db(), db, 1, where);
        assertWithin("dw", ref.dw(), dw, in, where);
        if (da != null) {
            assertWithin("da", ref.da(), da, 1, where);
        }
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

    // ---- NaN and infinities ----------------------------------------------------------------------------------

    /**
     * NaN and ±Inf in x, w, b and dy behave as in PyTorch (DESIGN.md): a kept element carries NaN through every
     * activation and ReLU(+Inf) = +Inf, ReLU(−Inf) = 0; a dropped element is 0; ReLU's backward gives 0 only where
     * y <= 0, so NaN passes; products with an infinity follow IEEE (0·Inf = NaN). Every output must be the NaN or
     * infinity float64 gives, or finite within the bound.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void nanAndInfinitiesFollowPyTorch(Activation act) {
        int n = 9, in = 13, out = 11;
        for (Dropout d : new Dropout[] {Dropout.train(0.5f, 4, 2), Dropout.eval()}) {
            Random r = new Random(97);
            float[] x = randn(r, n * in), w = randn(r, out * in), b = randn(r, out), dy = randn(r, n * out);
            x[1 * in + 2] = Float.NaN;               // row 1: z is NaN throughout
            x[3 * in] = Float.POSITIVE_INFINITY;      // row 3: z is ±Inf by the sign of w[j][0]
            w[5 * in + 4] = Float.NEGATIVE_INFINITY;  // column 5: z is ±Inf by the sign of x[i][4]
            b[7] = Float.NEGATIVE_INFINITY;          // column 7: relu(-Inf) = 0 where nothing else is infinite
            b[8] = Float.POSITIVE_INFINITY;          // column 8: +Inf, NaN in row 3 where w[8][0] < 0
            dy[0] = Float.NaN;
            dy[2 * out + 3] = Float.POSITIVE_INFINITY;
            dy[6 * out + 9] = Float.NEGATIVE_INFINITY;
            try {
                checkForward(n, in, out, act, d, x, w, b);
                checkBackward(n, in, out, act, d, x, w, b, dy);
            } catch (AssertionError e) {
                throw new AssertionError(act + ", " + d + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * The backward at z = NaN, +Inf, −Inf and 0, pinned to PyTorch's formulas as written out here (not taken from the
     * reference): ReLU's {@code threshold_backward(grad, result, 0)} passes where {@code result <= 0} fails, so NaN
     * and +Inf; {@code leaky_relu_backward} tests {@code z > 0}, so NaN, −Inf and 0 take α; the tanh-form GELU's
     * derivative is NaN at NaN and at ±Inf (its second term is 0·∞) and 0.5 at 0; identity passes everything;
     * {@code elu_backward} tests {@code z <= 0}, so NaN passes and −Inf gives α·e^−∞ = 0; {@code prelu_backward}
     * tests {@code z > 0}, so NaN, −Inf and 0 take the column's slope a. A dropped element gets 0 whatever z is.
     * One input and one output with w = 1 and b = 0 make z = x and dx = dz exactly.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void backwardAtNaNAndInfinitiesIsPyTorchs(Activation act) {
        float[] zs = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f};
        float nan = Float.NaN;
        float a = act.kind() == Activation.Kind.PRELU ? preluSlopes(1)[0] : act.alpha();
        // act'(z) on a kept element, for the z above in order
        float[] slope = switch (act.kind()) {
            case RELU -> new float[] {1, 1, 0, 0};
            case LEAKY_RELU -> new float[] {a, 1, a, a};
            case GELU -> new float[] {nan, nan, nan, 0.5f};
            case IDENTITY -> new float[] {1, 1, 1, 1};
            case ELU -> new float[] {1, 1, 0, a};
            case PRELU -> new float[] {a, 1, a, a};
        };
        int n = 64;
        float dyValue = 0.75f;
        for (Dropout d : new Dropout[] {Dropout.train(0.5f, 9, 5), Dropout.eval()}) {
            boolean[] keep = Reference.mask(n, 1, d);
            float[] x = new float[n];
            float[] dy = new float[n];
            int[][] seen = new int[zs.length][2];
            for (int i = 0; i < n; i++) {
                x[i] = zs[i % zs.length];
                dy[i] = dyValue;
                seen[i % zs.length][keep[i] ? 1 : 0]++;
            }
            for (int v = 0; v < zs.length; v++) {
                assertTrue(seen[v][1] > 0 && (seen[v][0] > 0 || !d.training()),
                        "z = " + zs[v] + " must be both kept and dropped under " + d);
            }
            float[] dx;
            try (Bound bound = bind(act, 1); Tensor tx = backend.tensor(x, n, 1);
                 Tensor tw = backend.tensor(new float[] {1f}, 1, 1);
                 Tensor tb = backend.tensor(new float[] {0f}, 1); Tensor tz = backend.zeros(n, 1);
                 Tensor ty = backend.linear(tx, tw, tb, bound.act(), d, tz); Tensor tdy = backend.tensor(dy, n, 1);
                 LinearGrads g = backend.linearBackward(tdy, tx, tw, ty, tz, bound.act(), d)) {
                dx = g.dx().toArray();
            }
            float gradient = dyValue * d.scale();
            for (int i = 0; i < n; i++) {
                float want = keep[i] ? gradient * slope[i % zs.length] : 0f;
                if (Float.isNaN(want) ? !Float.isNaN(dx[i]) : dx[i] != want) {
                    fail(act + ", " + d + ": dz at z = " + x[i] + (keep[i] ? " (kept)" : " (dropped)") + " is "
                            + dx[i] + " but PyTorch's backward gives " + want);
                }
            }
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

    // ---- slices of a batch -----------------------------------------------------------------------------------

    /** Row boundaries of {@code parts} slices of {@code n} rows, uneven so that slices start off multiples of 4. */
    private static int[] cuts(int n, int parts) {
        int[] c = new int[parts + 1];
        for (int k = 1; k < parts; k++) {
            c[k] = k * n / parts + (k % 2 == 0 ? -1 : 1);
        }
        c[parts] = n;
        return c;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void slicesOfABatchComputeTheWholeBatchsRows(Activation act) {
        checkSlices(act, Dropout.train(0.5f, 2024L, 17L));
    }

    /**
     * Slices of a batch, each with its element base, give the whole batch's y, dx and (output dropout) mask bit for
     * bit, and dw and db summed within twice the whole batch's bound.
     */
    private void checkSlices(Activation act, Dropout d) {
        Random r = new Random(61);
        int n = 23, in = 20, out = 33; // out odd: slice bases r0·out fall on every residue mod 4
        float[] x = randn(r, n * in), w = randn(r, out * in), b = randn(r, out), dy = randn(r, n * out);
        float[] y, z, mask, dx;
        float[] slope = act.kind() == Activation.Kind.PRELU ? preluSlopes(out) : null;
        try (Bound a = bind(act, out); Tensor tx = backend.tensor(x, n, in); Tensor tw = backend.tensor(w, out, in);
             Tensor tb = backend.tensor(b, out); Tensor tz = backend.zeros(n, out);
             Tensor ty = backend.linear(tx, tw, tb, a.act(), d, tz); Tensor tdy = backend.tensor(dy, n, out);
             Tensor tm = backend.dropoutMask(n, out, d);
             LinearGrads g = backend.linearBackward(tdy, tx, tw, ty, tz, a.act(), d)) {
            y = ty.toArray();
            z = tz.toArray();
            mask = tm.toArray();
            dx = g.dx().toArray();
        }
        Reference.Backward whole = Reference.backward(dy, x, w, y, z, Reference.mask(n, out, d), n, in, out, act, d,
                slope);
        // Each slice sums its own rows and the slices are then added: a sum of n + parts terms instead of n, so
        // twice the bound of the whole batch's sum holds.
        Expected dwOfSlices = twice(whole.dw());
        Expected dbOfSlices = twice(whole.db());
        for (int parts = 1; parts <= 4; parts++) {
            int[] c = cuts(n, parts);
            float[] dwSum = new float[out * in];
            float[] dbSum = new float[out];
            float[] daSum = new float[out];
            try (Bound a = bind(act, out); Tensor tw = backend.tensor(w, out, in); Tensor tb = backend.tensor(b, out)) {
                for (int s = 0; s < parts; s++) {
                    int r0 = c[s], rows = c[s + 1] - c[s];
                    Dropout ds = d.withElementBase((long) r0 * out);
                    String what = act + ", rows " + r0 + ".." + (r0 + rows) + " of " + n + " in " + parts + " slices";
                    try (Tensor tx = backend.tensor(Arrays.copyOfRange(x, r0 * in, (r0 + rows) * in), rows, in);
                         Tensor tdy = backend.tensor(Arrays.copyOfRange(dy, r0 * out, (r0 + rows) * out), rows, out);
                         Tensor tz = backend.zeros(rows, out); Tensor ty = backend.linear(tx, tw, tb, a.act(), ds, tz);
                         Tensor tm = backend.dropoutMask(rows, out, ds);
                         LinearGrads g = backend.linearBackward(tdy, tx, tw, ty, tz, a.act(), ds)) {
                        if (!d.dropConnect()) { // DropConnect's mask is the weights', not the rows'
                            assertArrayEquals(Arrays.copyOfRange(mask, r0 * out, (r0 + rows) * out),
                                    tm.toArray(), "mask of " + what);
                        }
                        assertArrayEquals(Arrays.copyOfRange(y, r0 * out, (r0 + rows) * out), ty.toArray(),
                                "y of " + what);
                        assertArrayEquals(Arrays.copyOfRange(dx, r0 * in, (r0 + rows) * in), g.dx().toArray(),
                                "dx of " + what);
                        float[] dw = g.dw().toArray(), db = g.db().toArray();
                        for (int e = 0; e < dwSum.length; e++) {
                            dwSum[e] += dw[e];
                        }
                        for (int j = 0; j < out; j++) {
                            dbSum[j] += db[j];
                        }
                        if (g.da() != null) {
                            float[] da = g.da().toArray();
                            for (int j = 0; j < out; j++) {
                                daSum[j] += da[j];
                            }
                        }
                    }
                }
            }
            String where = act + ", the sum over " + parts + " slices";
            assertWithin("dw", dwOfSlices, dwSum, in, where);
            assertWithin("db", dbOfSlices, dbSum, 1, where);
            if (whole.da() != null) {
                assertWithin("da", twice(whole.da()), daSum, 1, where);
            }
        }
    }

    private static Expected twice(Expected e) {
        double[] bound = e.bound().clone();
        for (int i = 0; i < bound.length; i++) {
            bound[i] *= 2;
        }
        return new Expected(e.value(), bound);
    }

    @Test
    void maskOfASliceStartingAnywhereIsThatPartOfTheWholeMask() {
        Dropout d = Dropout.train(0.3f, 77L, 5L);
        int rows = 3, cols = 7;
        try (Tensor whole = backend.dropoutMask(11, 13, d)) {
            float[] all = whole.toArray();
            for (int e0 : new int[] {0, 1, 2, 3, 5, 58, 121}) {
                try (Tensor t = backend.dropoutMask(rows, cols, d.withElementBase(e0))) {
                    assertArrayEquals(Arrays.copyOfRange(all, e0, e0 + rows * cols), t.toArray(),
                            "mask elements " + e0 + ".." + (e0 + rows * cols) + " of an 11x13 mask");
                }
            }
        }
        // Bases past 2^32 carry into the counter's second word: judged against the reference mask itself.
        for (long e0 : new long[] {(1L << 32) - 2, (1L << 32) + 1, Long.MAX_VALUE / 8}) {
            Dropout ds = d.withElementBase(e0);
            boolean[] keep = Reference.mask(rows, cols, ds);
            try (Tensor t = backend.dropoutMask(rows, cols, ds)) {
                float[] m = t.toArray();
                for (int e = 0; e < m.length; e++) {
                    assertEquals(keep[e] ? 1f : 0f, m[e], "mask element " + e + " from base " + e0);
                }
            }
        }
    }

    // ---- DropConnect --------------------------------------------------------------------------------------------

    static Stream<Arguments> dropConnectCases() {
        List<Arguments> a = new ArrayList<>();
        for (int[] s : SHAPES) {
            a.add(Arguments.of(s[0], s[1], s[2], 0.5f));
        }
        for (float p : new float[] {0f, 1e-9f, 0.1f, 0.9f, 0.999999f, 1f}) {
            a.add(Arguments.of(7, 33, 31, p));
        }
        return a.stream();
    }

    /** Forward and backward with the weight mask against float64 computing {@code W ⊙ M} explicitly. */
    @ParameterizedTest(name = "n={0} in={1} out={2} p={3}")
    @MethodSource("dropConnectCases")
    void dropConnectMatchesFloat64WithTheMaskedWeights(int n, int in, int out, float p) {
        Dropout d = Dropout.dropConnect(p, 5L * n + out, 3L * in);
        checkForward(n, in, out, Activation.relu(), d, new Random(n * 13L + in));
        checkBackward(n, in, out, Activation.relu(), d, new Random(n * 19L + out));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void dropConnectOfEveryActivation(Activation act) {
        // {3, 9, 600}: dx's masked W has depth out, over two K blocks of the cpu backend's packing at every width.
        for (int[] s : new int[][] {{1, 1, 1}, {7, 33, 31}, {65, 129, 33}, {2, 1500, 9}, {3, 9, 600}}) {
            Dropout d = Dropout.dropConnect(0.4f, -4321L, 1L << 40);
            checkForward(s[0], s[1], s[2], act, d, new Random(s[2]));
            checkBackward(s[0], s[1], s[2], act, d, new Random(s[1] + 2));
        }
    }

    static Stream<Arguments> dropConnectMaskCases() {
        return Stream.of(
                Arguments.of(29, 37, Dropout.dropConnect(0.5f, 1L, 0L)),
                Arguments.of(64, 64, Dropout.dropConnect(0.1f, Long.MIN_VALUE, Long.MAX_VALUE)),
                Arguments.of(5, 131, Dropout.dropConnect(0.9f, 0xDEADBEEFCAFEL, (1L << 32) + 3)),
                Arguments.of(17, 3, Dropout.dropConnect(0.999999f, -1L, 12345L)),
                Arguments.of(3, 3, Dropout.dropConnect(1e-9f, 42L, 0L)));
    }

    /**
     * The weight mask bit for bit against the Philox weight stream, seen three ways: the mask op, the forward
     * ({@code x = I}, {@code b = 0}, identity: {@code y[c][o] = w[o][c]·s} or 0) and dw ({@code dy = 1}: dw is
     * {@code s} where kept, 0 where dropped).
     */
    @ParameterizedTest(name = "{0}x{1} {2}")
    @MethodSource("dropConnectMaskCases")
    void dropConnectMaskIsThePhiloxWeightStreamBitForBit(int out, int in, Dropout d) {
        boolean[] keep = DropConnectReference.weightMask(out, in, d);
        float[] eye = new float[in * in];
        for (int c = 0; c < in; c++) {
            eye[c * in + c] = 1f;
        }
        float[] w = new float[out * in];
        Arrays.fill(w, 2f);
        float[] ones = new float[in * out];
        Arrays.fill(ones, 1f);
        float[] m, y, dw;
        try (Tensor tm = backend.dropoutMask(out, in, d); Tensor tx = backend.tensor(eye, in, in);
             Tensor tw = backend.tensor(w, out, in); Tensor tb = backend.zeros(out);
             Tensor ty = backend.linear(tx, tw, tb, Activation.identity(), d, null);
             Tensor tdy = backend.tensor(ones, in, out);
             LinearGrads g = backend.linearBackward(tdy, tx, tw, ty, null, Activation.identity(), d, false)) {
            assertArrayEquals(new int[] {out, in}, tm.shape());
            m = tm.toArray();
            y = ty.toArray();
            dw = g.dw().toArray();
        }
        float s = d.scale();
        int differ = 0;
        for (int o = 0; o < out; o++) {
            for (int c = 0; c < in; c++) {
                int k = o * in + c;
                assertEquals(keep[k], Philox.keepWeight(k, d), "Philox.keepWeight of weight " + k);
                boolean maskSays = m[k] == 1f, forwardSays = y[c * out + o] == 2f * s, dwSays = dw[k] == s;
                if (maskSays != keep[k] || forwardSays != keep[k] || dwSays != keep[k]
                        || !keep[k] && (m[k] != 0f || y[c * out + o] != 0f || dw[k] != 0f)) {
                    differ++;
                }
            }
        }
        assertEquals(0, differ, differ + " of " + out * in + " weights: the mask op, forward or dw differ from the "
                + "Philox weight stream for " + d);
    }

    @Test
    void dropConnectDropsAboutPOfTheWeightsAndNoOutputs() {
        int out = 256, in = 256;
        Dropout d = Dropout.dropConnect(0.25f, 77L, 0L);
        try (Tensor t = backend.dropoutMask(out, in, d)) {
            double kept = 0;
            for (float v : t.toArray()) {
                kept += v;
            }
            double frac = kept / (out * in);
            assertTrue(Math.abs(frac - 0.75) < 0.01, "kept fraction of the weights " + frac + " for p = 0.25");
        }
        // Positive inputs, weights and bias: with the outputs unmasked every y is positive.
        Random r = new Random(4);
        int n = 16, k = 40, o = 24;
        float[] x = new float[n * k], w = new float[o * k], b = new float[o];
        for (int i = 0; i < x.length; i++) {
            x[i] = 0.1f + r.nextFloat();
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = 0.1f + r.nextFloat();
        }
        Arrays.fill(b, 0.5f);
        try (Tensor tx = backend.tensor(x, n, k); Tensor tw = backend.tensor(w, o, k); Tensor tb = backend.tensor(b, o);
             Tensor y = backend.linearReluDropout(tx, tw, tb, Dropout.dropConnect(0.5f, 77L, 0L))) {
            for (float v : y.toArray()) {
                assertTrue(v > 0f, "DropConnect masked an output: y = " + v);
            }
        }
    }

    /**
     * The weight stream is not the output stream: for one p, seed and offset the weight mask of an {@code [r, c]}
     * weight and the output mask of an {@code [r, c]} output agree on about half their elements at p = ½ (as two
     * independent masks do), where one stream would agree everywhere.
     */
    @Test
    void dropConnectsStreamIsDisjointFromTheOutputMasks() {
        for (long offset : new long[] {0L, 9L, -1L}) {
            try (Tensor wm = backend.dropoutMask(256, 256, Dropout.dropConnect(0.5f, 2026L, offset));
                 Tensor om = backend.dropoutMask(256, 256, Dropout.train(0.5f, 2026L, offset))) {
                float[] a = wm.toArray(), b = om.toArray();
                int same = 0;
                for (int e = 0; e < a.length; e++) {
                    same += a[e] == b[e] ? 1 : 0;
                }
                double frac = (double) same / a.length;
                assertTrue(Math.abs(frac - 0.5) < 0.01, "the weight and output masks of offset " + offset
                        + " agree on " + frac + " of their elements");
            }
        }
    }

    /**
     * p = 0 keeps and scales by 1: the plain layer bit for bit (evaluation is {@code Dropout.eval()} itself); p = 1
     * drops every weight: y = act(b) on every row, dx and dw 0, db still the sum of dz.
     */
    @Test
    void dropConnectAtPZeroIsThePlainLayerAndAtPOneLeavesTheBias() {
        Random r = new Random(12);
        int n = 11, in = 29, out = 19;
        float[] x = randn(r, n * in), w = randn(r, out * in), b = randn(r, out), dy = randn(r, n * out);
        Activation act = Activation.gelu();
        try (Tensor tx = backend.tensor(x, n, in); Tensor tw = backend.tensor(w, out, in);
             Tensor tb = backend.tensor(b, out); Tensor tdy = backend.tensor(dy, n, out);
             Tensor zp = backend.zeros(n, out); Tensor ze = backend.zeros(n, out); Tensor z1 = backend.zeros(n, out);
             Tensor plain = backend.linear(tx, tw, tb, act, Dropout.eval(), zp);
             Tensor none = backend.linear(tx, tw, tb, act, Dropout.dropConnect(0f, 8L, 1L), ze);
             Tensor all = backend.linear(tx, tw, tb, act, Dropout.dropConnect(1f, 8L, 1L), z1);
             LinearGrads gp = backend.linearBackward(tdy, tx, tw, plain, zp, act, Dropout.eval());
             LinearGrads gn = backend.linearBackward(tdy, tx, tw, none, ze, act, Dropout.dropConnect(0f, 8L, 1L));
             LinearGrads ga = backend.linearBackward(tdy, tx, tw, all, z1, act, Dropout.dropConnect(1f, 8L, 1L))) {
            assertArrayEquals(plain.toArray(), none.toArray(), "DropConnect at p = 0 must be the plain layer");
            assertArrayEquals(gp.dx().toArray(), gn.dx().toArray(), "dx at p = 0");
            assertArrayEquals(gp.dw().toArray(), gn.dw().toArray(), "dw at p = 0");
            assertArrayEquals(gp.db().toArray(), gn.db().toArray(), "db at p = 0");
            float[] y1 = all.toArray();
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < out; j++) {
                    assertEquals((float) Reference.activation(act, b[j]), y1[i * out + j], 1e-5f,
                            "y" + idx(i * out + j, out) + " with every weight dropped");
                }
            }
            for (float v : ga.dx().toArray()) {
                assertEquals(0f, v, "dx with every weight dropped");
            }
            for (float v : ga.dw().toArray()) {
                assertEquals(0f, v, "dw with every weight dropped");
            }
        }
    }

    /**
     * One weight tensor used by plain calls and DropConnect calls of different masks, each more than once (a backend
     * may keep W's packed form between calls): every call sees its own mask, or none, in y and in dx.
     */
    @Test
    void callsOnOneWeightTensorEachSeeTheirOwnMask() {
        Random r = new Random(31);
        int n = 6, in = 37, out = 45;
        float[] x = randn(r, n * in), w = randn(r, out * in), b = randn(r, out), dy = randn(r, n * out);
        Dropout[] sequence = {Dropout.eval(), Dropout.eval(), Dropout.dropConnect(0.5f, 3L, 0L),
            Dropout.dropConnect(0.5f, 3L, 0L), Dropout.dropConnect(0.5f, 3L, 1L), Dropout.eval(),
            Dropout.dropConnect(0.5f, 3L, 1L), Dropout.eval()};
        try (Tensor tx = backend.tensor(x, n, in); Tensor tw = backend.tensor(w, out, in);
             Tensor tb = backend.tensor(b, out); Tensor tdy = backend.tensor(dy, n, out)) {
            for (int c = 0; c < sequence.length; c++) {
                Dropout d = sequence[c];
                String where = "call " + c + " on one weight tensor, " + d;
                try (Tensor ty = backend.linear(tx, tw, tb, Activation.identity(), d, null);
                     LinearGrads g = backend.linearBackward(tdy, tx, tw, ty, null, Activation.identity(), d)) {
                    float[] y = ty.toArray();
                    assertWithin("y", Reference.forward(x, w, b, n, in, out, Activation.identity(), d).y(), y, out,
                            where);
                    Reference.Backward ref = Reference.backward(dy, x, w, y, null, Reference.mask(n, out, d), n, in,
                            out, Activation.identity(), d);
                    assertWithin("dx", ref.dx(), g.dx().toArray(), in, where);
                    assertWithin("dw", ref.dw(), g.dw().toArray(), in, where);
                }
            }
        }
    }

    /** Slices with element bases draw the one weight mask of the call: the whole batch's rows and gradients. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void dropConnectSlicesOfABatchComputeTheWholeBatchsRows(Activation act) {
        Dropout d = Dropout.dropConnect(0.5f, 2024L, 17L);
        assertEquals(d, d.withElementBase(5 * 33), "an element base must not change DropConnect's mask");
        checkSlices(act, d);
    }

    // ---- channel and variational dropout ----------------------------------------------------------------------

    /** {rows, cols, dropout}: every mask mode, with columns and element bases on every residue mod 4. */
    static Stream<Arguments> maskModeCases() {
        Dropout half = Dropout.train(0.5f, 2024L, 17L);
        return Stream.of(
                Arguments.of(5, 12, half.channels(4)),
                Arguments.of(9, 130, half.channels(5)),
                Arguments.of(33, 96, Dropout.train(0.3f, -7L, 1L << 33).channels(3)),
                Arguments.of(3, 200, half.channels(200)),
                Arguments.of(12, 10, half.variational(3)),
                Arguments.of(40, 70, half.variational(4)), // the period, 280 elements, wraps inside runs of 64
                Arguments.of(31, 7, Dropout.train(0.25f, 5L, 6L).variational(1)),
                Arguments.of(30, 12, half.channels(4).variational(5)),
                Arguments.of(17, 33, half.variational(2).withElementBase(5)),
                Arguments.of(11, 15, half.channels(3).withElementBase(7 * 15 + 2)),
                Arguments.of(6, 9, half.channels(3).variational(2).withElementBase((1L << 32) + 1)),
                Arguments.of(8, 8, Dropout.train(1f, 5L, 6L).channels(2).variational(2)),
                Arguments.of(8, 8, Dropout.train(0f, 5L, 6L).channels(4)),
                Arguments.of(4, 6, Dropout.eval().channels(3).variational(2)));
    }

    @ParameterizedTest(name = "{0}x{1} {2}")
    @MethodSource("maskModeCases")
    void maskOfEveryModeIsBitExact(int rows, int cols, Dropout d) {
        maskIsBitExact(rows, cols, d);
    }

    @ParameterizedTest(name = "{0}x{1} {2}")
    @MethodSource("maskModeCases")
    void forwardAndBackwardOfEveryModeMatchTheReference(int rows, int cols, Dropout d) {
        Random r = new Random(rows * 31L + cols);
        for (Activation act : new Activation[] {Activation.relu(), Activation.gelu(), Activation.leakyRelu(0.1f)}) {
            checkForward(rows, 13, cols, act, d, r);
            checkBackward(rows, 13, cols, act, d, r);
        }
    }

    /** Channel dropout keeps or drops a channel's columns together, about 1 − p of the channels. */
    @Test
    void channelDropoutDropsWholeChannelsTogether() {
        int rows = 64, features = 6, channels = 20;
        try (Tensor t = backend.dropoutMask(rows, channels * features, Dropout.train(0.25f, 99L, 3L).channels(features))) {
            float[] m = t.toArray();
            int kept = 0;
            for (int i = 0; i < rows; i++) {
                for (int c = 0; c < channels; c++) {
                    int first = i * channels * features + c * features;
                    for (int f = 1; f < features; f++) {
                        assertEquals(m[first], m[first + f], "row " + i + " channel " + c + " feature " + f);
                    }
                    kept += (int) m[first];
                }
            }
            double frac = kept / (double) (rows * channels);
            assertTrue(Math.abs(frac - 0.75) < 0.05, "kept fraction of channels " + frac + " for p = 0.25");
        }
    }

    /**
     * Variational dropout draws one mask per (sequence, feature): every time step of a time-major batch repeats the
     * first step's mask, and a call per time step with the same dropout draws that mask too.
     */
    @Test
    void variationalDropoutDrawsTheSameMaskAtEveryTimeStep() {
        int sequences = 5, steps = 7, features = 19, in = 11;
        Dropout d = Dropout.train(0.5f, 31L, 4L).variational(sequences);
        Random r = new Random(5);
        float[] x = randn(r, steps * sequences * in), w = randn(r, features * in), b = randn(r, features);
        float[] m, y;
        try (Tensor t = backend.dropoutMask(steps * sequences, features, d);
             Tensor tx = backend.tensor(x, steps * sequences, in); Tensor tw = backend.tensor(w, features, in);
             Tensor tb = backend.tensor(b, features);
             Tensor ty = backend.linear(tx, tw, tb, Activation.identity(), d, null)) {
            m = t.toArray();
            y = ty.toArray();
        }
        int step = sequences * features;
        float kept = 0;
        for (int e = 0; e < step; e++) {
            kept += m[e];
        }
        assertTrue(kept > 0 && kept < step, "the first step's mask keeps " + kept + " of " + step);
        for (int t = 1; t < steps; t++) {
            assertArrayEquals(Arrays.copyOfRange(m, 0, step), Arrays.copyOfRange(m, t * step, (t + 1) * step),
                    "the mask of time step " + t);
        }
        try (Tensor tw = backend.tensor(w, features, in); Tensor tb = backend.tensor(b, features)) {
            for (int t = 0; t < steps; t++) {
                try (Tensor tx = backend.tensor(Arrays.copyOfRange(x, t * sequences * in, (t + 1) * sequences * in),
                        sequences, in); Tensor ty = backend.linear(tx, tw, tb, Activation.identity(), d, null)) {
                    float[] yt = ty.toArray();
                    for (int e = 0; e < step; e++) {
                        if (m[e] == 0f) {
                            assertEquals(0f, yt[e], "step " + t + " alone, element " + e + ": dropped at step 0");
                        }
                    }
                    assertArrayEquals(Arrays.copyOfRange(y, t * step, (t + 1) * step), yt,
                            "step " + t + " alone gives the whole batch's rows");
                }
            }
        }
    }

    /** A slice of a batch, with its element base, computes the whole batch's rows in every mask mode. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void slicesOfABatchComputeTheWholeBatchsRowsInEveryMode(Activation act) {
        int n = 24, in = 9, out = 15; // out odd: slice bases r0·out fall on every residue mod 4
        for (Dropout d : new Dropout[] {Dropout.train(0.5f, 8L, 1L).channels(5),
                Dropout.train(0.5f, 8L, 1L).variational(3), Dropout.train(0.4f, 9L, 2L).channels(3).variational(4)}) {
            Random r = new Random(n + out);
            float[] x = randn(r, n * in), w = randn(r, out * in), b = randn(r, out), dy = randn(r, n * out);
            float[] y, mask, dx;
            try (Bound a = bind(act, out); Tensor tx = backend.tensor(x, n, in); Tensor tw = backend.tensor(w, out, in);
                 Tensor tb = backend.tensor(b, out); Tensor tz = backend.zeros(n, out);
                 Tensor ty = backend.linear(tx, tw, tb, a.act(), d, tz); Tensor tdy = backend.tensor(dy, n, out);
                 Tensor tm = backend.dropoutMask(n, out, d);
                 LinearGrads g = backend.linearBackward(tdy, tx, tw, ty, tz, a.act(), d)) {
                y = ty.toArray();
                mask = tm.toArray();
                dx = g.dx().toArray();
            }
            int[] c = cuts(n, 3);
            try (Bound a = bind(act, out); Tensor tw = backend.tensor(w, out, in); Tensor tb = backend.tensor(b, out)) {
                for (int s = 0; s < 3; s++) {
                    int r0 = c[s], rows = c[s + 1] - c[s];
                    Dropout ds = d.withElementBase((long) r0 * out);
                    String what = act + ", " + d + ", rows " + r0 + ".." + (r0 + rows) + " of " + n;
                    try (Tensor tx = backend.tensor(Arrays.copyOfRange(x, r0 * in, (r0 + rows) * in), rows, in);
                         Tensor tdy = backend.tensor(Arrays.copyOfRange(dy, r0 * out, (r0 + rows) * out), rows, out);
                         Tensor tz = backend.zeros(rows, out); Tensor ty = backend.linear(tx, tw, tb, a.act(), ds, tz);
                         Tensor tm = backend.dropoutMask(rows, out, ds);
                         LinearGrads g = backend.linearBackward(tdy, tx, tw, ty, tz, a.act(), ds)) {
                        assertArrayEquals(Arrays.copyOfRange(mask, r0 * out, (r0 + rows) * out), tm.toArray(),
                                "mask of " + what);
                        assertArrayEquals(Arrays.copyOfRange(y, r0 * out, (r0 + rows) * out), ty.toArray(),
                                "y of " + what);
                        assertArrayEquals(Arrays.copyOfRange(dx, r0 * in, (r0 + rows) * in), g.dx().toArray(),
                                "dx of " + what);
                    }
                }
            }
        }
    }

    /** Channels that do not divide the output's columns are refused by every call, naming both numbers. */
    @Test
    void channelsThatDoNotDivideTheOutputAreRefusedNamingBoth() {
        Dropout d = Dropout.train(0.5f, 1L, 2L).channels(4);
        try (Tensor x = backend.tensor(new float[6], 2, 3); Tensor w = backend.tensor(new float[30], 10, 3);
             Tensor b = backend.tensor(new float[10], 10); Tensor dy = backend.tensor(new float[20], 2, 10);
             Tensor y = backend.linear(x, w, b, Activation.relu(), Dropout.eval(), null)) {
            expectIae(() -> backend.linear(x, w, b, Activation.relu(), d, null), "featuresPerChannel 4", "10 columns");
            expectIae(() -> backend.linearBackward(dy, x, w, y, null, Activation.relu(), d), "featuresPerChannel 4",
                    "10 columns");
            expectIae(() -> backend.dropoutMask(3, 6, d), "featuresPerChannel 4", "6 columns");
            // Evaluation ignores the option.
            try (Tensor ok = backend.linear(x, w, b, Activation.relu(), Dropout.eval().channels(4), null)) {
                assertArrayEquals(new int[] {2, 10}, ok.shape());
            }
        }
    }

    // ---- dropout of a tensor ---------------------------------------------------------------------------------

    static Stream<Arguments> dropoutOpCases() {
        Dropout half = Dropout.train(0.5f, 2024L, 17L);
        return Stream.of(
                Arguments.of(3, 5, half),
                Arguments.of(17, 31, Dropout.train(0.1f, -1L, 5L).withElementBase(5)),
                Arguments.of(70, 130, Dropout.train(0.3f, 7L, 1L << 33)),
                Arguments.of(9, 12, half.channels(3)),
                Arguments.of(8, 7, half.variational(2).withElementBase(3 * 7)),
                Arguments.of(4, 4, Dropout.train(1f, 5L, 6L)),
                Arguments.of(4, 4, Dropout.train(0f, 5L, 6L)),
                Arguments.of(4, 6, Dropout.eval()));
    }

    /**
     * {@code dropout(x, d)} keeps the elements {@code dropoutMask} keeps, scaled by {@code 1/(1 − p)}, and zeroes the
     * rest, NaN included; in evaluation it copies {@code x}.
     */
    @ParameterizedTest(name = "{0}x{1} {2}")
    @MethodSource("dropoutOpCases")
    void dropoutOfATensorScalesKeptElementsAndZeroesTheRest(int rows, int cols, Dropout d) {
        float[] x = randn(new Random(rows * 7L + cols), rows * cols);
        x[0] = Float.NaN;
        x[x.length - 1] = Float.POSITIVE_INFINITY;
        boolean[] keep = Reference.mask(rows, cols, d);
        double scale = Reference.scale(d);
        float[] got;
        try (Tensor tx = backend.tensor(x, rows, cols); Tensor out = backend.dropout(tx, d)) {
            assertArrayEquals(new int[] {rows, cols}, out.shape());
            got = out.toArray();
            assertArrayEquals(x, tx.toArray(), "the input is left as it was");
        }
        for (int e = 0; e < x.length; e++) {
            double want = keep[e] ? x[e] * scale : 0;
            String what = "element " + idx(e, cols) + " of dropout(x) with " + d + ": x = " + x[e];
            if (!keep[e] || Double.isNaN(want) || Double.isInfinite(want)) {
                assertEquals((float) want, got[e], what);
            } else {
                assertEquals(want, got[e], 2 * Reference.U * Math.abs(want), what);
            }
        }
    }

    /** dropout of rows [r0, r0 + n) with the element base r0·cols is those rows of the whole tensor's dropout. */
    @Test
    void dropoutOfASliceIsThatPartOfTheWholeTensorsDropout() {
        int rows = 21, cols = 13;
        float[] x = randn(new Random(3), rows * cols);
        for (Dropout d : new Dropout[] {Dropout.train(0.4f, 9L, 2L), Dropout.train(0.4f, 9L, 2L).variational(4)}) {
            float[] whole;
            try (Tensor tx = backend.tensor(x, rows, cols); Tensor out = backend.dropout(tx, d)) {
                whole = out.toArray();
            }
            for (int r0 : new int[] {1, 6, 11}) {
                int n = 5;
                try (Tensor tx = backend.tensor(Arrays.copyOfRange(x, r0 * cols, (r0 + n) * cols), n, cols);
                     Tensor out = backend.dropout(tx, d.withElementBase((long) r0 * cols))) {
                    assertArrayEquals(Arrays.copyOfRange(whole, r0 * cols, (r0 + n) * cols), out.toArray(),
                            "rows " + r0 + ".." + (r0 + n) + " with " + d);
                }
            }
        }
        try (Tensor v = backend.tensor(new float[4], 4)) {
            expectIae(() -> backend.dropout(v, Dropout.train(0.5f, 1L, 2L)), "[4]");
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

    /**
     * Slices of a batch normalised by the whole batch's size: each slice's gradient rows are the whole batch's rows
     * bit for bit (a row's gradient involves only that row), the correct counts add up exactly, and the slices'
     * losses add up to the whole batch's mean loss within float32 rounding of the two sums, which run in a
     * different order and so are not bit-equal.
     */
    @Test
    void crossEntropyOfSlicesOverTheWholeBatchSizeAddsUpToTheWholeBatch() {
        Random r = new Random(41);
        int n = 37, c = 10;
        float[] logits = randn(r, n * c);
        float[] labels = new float[n];
        for (int i = 0; i < n; i++) {
            labels[i] = r.nextInt(c);
        }
        TrainingReference.CrossEntropy ref = TrainingReference.softmaxCrossEntropy(logits, labels, n, c);
        float wholeLoss;
        int wholeCorrect;
        float[] wholeGrad;
        try (Tensor tl = backend.tensor(logits, n, c); Tensor tlab = backend.tensor(labels, n);
             CrossEntropy ce = backend.softmaxCrossEntropy(tl, tlab, n)) {
            wholeLoss = ce.loss();
            wholeCorrect = ce.correct();
            wholeGrad = ce.grad().toArray();
        }
        assertEquals(ref.loss(), wholeLoss, 1e-5 * (1 + Math.abs(ref.loss())), "loss of the whole batch");
        for (int[] sizes : new int[][] {{37}, {1, 17, 19}, {10, 9, 9, 9}, {36, 1}}) {
            double lossSum = 0;
            int correctSum = 0;
            int r0 = 0;
            for (int rows : sizes) {
                String what = "rows " + r0 + ".." + (r0 + rows) + " of " + n + " split " + Arrays.toString(sizes);
                try (Tensor tl = backend.tensor(Arrays.copyOfRange(logits, r0 * c, (r0 + rows) * c), rows, c);
                     Tensor tlab = backend.tensor(Arrays.copyOfRange(labels, r0, r0 + rows), rows);
                     CrossEntropy ce = backend.softmaxCrossEntropy(tl, tlab, n)) {
                    assertArrayEquals(Arrays.copyOfRange(wholeGrad, r0 * c, (r0 + rows) * c), ce.grad().toArray(),
                            "gradient of " + what);
                    TrainingReference.CrossEntropy part = TrainingReference.softmaxCrossEntropy(
                            Arrays.copyOfRange(logits, r0 * c, (r0 + rows) * c),
                            Arrays.copyOfRange(labels, r0, r0 + rows), rows, c);
                    double partLoss = part.loss() * rows / n;
                    assertEquals(partLoss, ce.loss(), 1e-5 * (1 + Math.abs(partLoss)), "loss of " + what);
                    lossSum += ce.loss();
                    correctSum += ce.correct();
                }
                r0 += rows;
            }
            assertEquals(wholeCorrect, correctSum, "correct count summed over " + Arrays.toString(sizes));
            assertEquals(wholeLoss, lossSum, 1e-5 * (1 + Math.abs(ref.loss())),
                    "loss summed over " + Arrays.toString(sizes));
        }
    }

    @Test
    void crossEntropyRefusesABatchSizeBelowTheRowCount() {
        try (Tensor tl = backend.zeros(5, 3); Tensor tlab = backend.zeros(5)) {
            for (int batch : new int[] {4, 0, -1}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> backend.softmaxCrossEntropy(tl, tlab, batch).close());
                assertTrue(e.getMessage().contains("batch size " + batch) && e.getMessage().contains("[5, 3]"),
                        e.getMessage());
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

    /**
     * PReLU's slope tensor is checked by forward and backward alike: its shape against w's, its backend, that it is
     * open, and that there is one (the layer form {@code Activation.prelu()} is for layers that own their slopes).
     */
    @Test
    void preluSlopesAreCheckedNamingTheirShape() {
        try (Tensor x = backend.zeros(4, 3); Tensor w = backend.zeros(5, 3); Tensor b = backend.zeros(5);
             Tensor y = backend.zeros(4, 5); Tensor z = backend.zeros(4, 5); Tensor six = backend.zeros(6);
             Tensor matrix = backend.zeros(5, 1); Tensor foreign = ForeignBackend.INSTANCE.zeros(5)) {
            Dropout d = Dropout.eval();
            expectIae(() -> backend.linear(x, w, b, Activation.prelu(six), d, z), "PReLU slope", "[6]", "[5, 3]", "5");
            expectIae(() -> backend.linearBackward(y, x, w, y, z, Activation.prelu(six), d), "PReLU slope", "[6]",
                    "[5, 3]");
            expectIae(() -> backend.linear(x, w, b, Activation.prelu(matrix), d, z), "PReLU slope", "[5, 1]");
            expectIae(() -> backend.linear(x, w, b, Activation.prelu(), d, z), "PReLU", "slope tensor", "[5]");
            expectIae(() -> backend.linearBackward(y, x, w, y, z, Activation.prelu(), d), "PReLU", "[5]");
            expectIae(() -> backend.linear(x, w, b, Activation.prelu(foreign), d, z), "PReLU slope",
                    ForeignBackend.INSTANCE.name());
            expectIae(() -> Activation.prelu(null), "null");
            expectIae(() -> new Activation(Activation.Kind.LEAKY_RELU, 0.1f, six), "takes no slope tensor", "[6]");
            Tensor gone = backend.zeros(5);
            gone.close();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> backend.linear(x, w, b, Activation.prelu(gone), d, z));
            assertTrue(e.getMessage().contains("PReLU slope") && e.getMessage().contains("closed"), e.getMessage());
            try (Tensor a = backend.zeros(5)) {
                expectIae(() -> backend.linearBackward(y, x, w, y, null, Activation.prelu(a), d), "pre-activation");
            }
        }
    }

    @Test
    void badDataAndDimensionsAreRefused() {
        expectIae(() -> backend.tensor(new float[5], 2, 3), "5", "[2, 3]", "6");
        expectIae(() -> backend.tensor(new float[0], 2, -3), "-3");
        expectIae(() -> backend.zeros(-1, 4), "-1");
        expectIae(() -> backend.zeros(0, 4), "zero");
        expectIae(() -> backend.tensor((float[]) null, 1), "null");
        expectIae(() -> backend.tensor((FloatBuffer) null, 1), "null");
        expectIae(() -> backend.dropoutMask(-2, 3, Dropout.eval()), "-2");
        expectIae(() -> Dropout.train(1.5f, 0, 0), "1.5");
        expectIae(() -> Dropout.train(-0.1f, 0, 0), "-0.1");
        expectIae(() -> Dropout.train(Float.NaN, 0, 0), "NaN");
        expectIae(() -> Activation.leakyRelu(-1f), "-1.0");
        expectIae(() -> Activation.elu(0f), "ELU alpha", "0.0");
        expectIae(() -> Activation.elu(-2f), "ELU alpha", "-2.0");
        expectIae(() -> Activation.elu(Float.NaN), "ELU alpha", "NaN");
        expectIae(() -> Activation.elu(Float.POSITIVE_INFINITY), "ELU alpha", "Infinity");
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

    /**
     * Backends may return before their work is done (DESIGN.md): closing a tensor that queued work still reads, and
     * reusing its memory for a new tensor at once, must not change any result.
     */
    @Test
    void tensorsClosedRightAfterTheCallsThatUseThemLeaveResultsUnchanged() {
        Random r = new Random(71);
        int n = 37, in = 50, hidden = 29, out = 11;
        float[] x = randn(r, n * in), w1 = randn(r, hidden * in), b1 = randn(r, hidden);
        float[] w2 = randn(r, out * hidden), b2 = randn(r, out), dy = randn(r, n * out);
        Dropout d = Dropout.train(0.5f, 8, 1);
        float[][] kept = twoLayers(x, w1, b1, w2, b2, dy, d, false);
        float[][] closed = twoLayers(x, w1, b1, w2, b2, dy, d, true);
        String[] names = {"y", "dx", "dw2", "db2", "w2 after SGD"};
        for (int i = 0; i < names.length; i++) {
            assertArrayEquals(kept[i], closed[i], names[i] + " with the inputs closed and their memory reused");
        }
    }

    /**
     * Forward through two layers, backward through the second, an SGD step on it; with {@code closeEarly} every
     * input is closed right after the last call that uses it is made, and as many tensors of the same sizes are
     * filled with other values in its place (a pool would hand them the freed memory) until the end.
     */
    private float[][] twoLayers(float[] x, float[] w1, float[] b1, float[] w2, float[] b2, float[] dy, Dropout d,
                                boolean closeEarly) {
        int hidden = b1.length, out = b2.length, n = dy.length / out, in = x.length / n;
        List<Tensor> decoys = new ArrayList<>();
        Tensor tx = backend.tensor(x, n, in), tw1 = backend.tensor(w1, hidden, in), tb1 = backend.tensor(b1, hidden);
        Tensor h = backend.linear(tx, tw1, tb1, Activation.relu(), d, null);
        if (closeEarly) {
            closeAndReplace(decoys, tx, tw1, tb1);
        }
        Tensor tw2 = backend.tensor(w2, out, hidden), tb2 = backend.tensor(b2, out);
        Tensor y = backend.linear(h, tw2, tb2, Activation.identity(), d.next(), null);
        Tensor tdy = backend.tensor(dy, n, out);
        LinearGrads g = backend.linearBackward(tdy, h, tw2, y, null, Activation.identity(), d.next());
        Tensor velocity = backend.zeros(out, hidden);
        backend.sgdStep(tw2, g.dw(), velocity, 0.05f, 0.9f, 0.01f);
        if (closeEarly) {
            closeAndReplace(decoys, h, tdy, tb2, velocity);
        }
        backend.synchronize(); // waits for the queued work, or returns at once, and changes nothing
        try {
            return new float[][] {y.toArray(), g.dx().toArray(), g.dw().toArray(), g.db().toArray(), tw2.toArray()};
        } finally {
            g.close();
            for (Tensor t : new Tensor[] {y, tw2, tx, tw1, tb1, h, tb2, tdy, velocity}) {
                t.close(); // closing twice is allowed
            }
            decoys.forEach(Tensor::close);
        }
    }

    private void closeAndReplace(List<Tensor> decoys, Tensor... ts) {
        for (Tensor t : ts) {
            int[] shape = t.shape();
            t.close();
            float[] other = new float[(int) t.size()];
            Arrays.fill(other, -7f);
            decoys.add(backend.tensor(other, shape));
        }
    }

    // ---- host buffers ----------------------------------------------------------------------------------------

    /** Every kind of buffer a caller may hold, its floats between position 3 and limit 3 + values.length. */
    private static List<FloatBuffer> buffersHolding(float[] values) {
        int pad = 3;
        List<FloatBuffer> kinds = new ArrayList<>();
        FloatBuffer heap = FloatBuffer.allocate(values.length + 2 * pad);
        FloatBuffer direct = ByteBuffer.allocateDirect(4 * (values.length + 2 * pad)).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        ByteOrder other = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
        FloatBuffer swapped = ByteBuffer.allocateDirect(4 * (values.length + 2 * pad)).order(other).asFloatBuffer();
        for (FloatBuffer b : new FloatBuffer[] {heap, direct, swapped}) {
            for (int i = 0; i < b.capacity(); i++) {
                b.put(i, -99f); // outside the region: must never be read or written
            }
            b.put(pad, values).position(pad).limit(pad + values.length);
            kinds.add(b);
        }
        kinds.add(heap.asReadOnlyBuffer());
        kinds.add(direct.asReadOnlyBuffer());
        return kinds;
    }

    private static String kind(FloatBuffer b) {
        return (b.isDirect() ? "direct " : "heap ") + b.order() + (b.isReadOnly() ? " read-only" : "") + " buffer";
    }

    @Test
    void hostBuffersOfEveryKindRoundTripAndKeepTheirPositionAndLimit() {
        float[] values = randn(new Random(5), 35);
        float[] other = randn(new Random(6), 35);
        for (FloatBuffer src : buffersHolding(values)) {
            try (Tensor t = backend.tensor(src, 5, 7)) {
                assertArrayEquals(values, t.toArray(), "tensor(" + kind(src) + ")");
                assertEquals(3, src.position(), "tensor(" + kind(src) + ") must leave the position");
                assertEquals(38, src.limit(), "tensor(" + kind(src) + ") must leave the limit");
                t.copyFrom(other);
                assertArrayEquals(other, t.toArray(), "copyFrom(float[])");
                t.copyFrom(src);
                assertArrayEquals(values, t.toArray(), "copyFrom(" + kind(src) + ")");
                assertEquals(3, src.position(), "copyFrom(" + kind(src) + ") must leave the position");
            }
        }
        try (Tensor t = backend.tensor(values, 5, 7)) {
            for (FloatBuffer dst : buffersHolding(other)) {
                if (dst.isReadOnly()) {
                    continue; // refused: see hostCopiesRefuseWrongSizesClosedTensorsAndReadOnlyTargets
                }
                t.copyTo(dst);
                float[] got = new float[35];
                dst.get(3, got);
                assertArrayEquals(values, got, "copyTo(" + kind(dst) + ")");
                FloatBuffer whole = dst.duplicate().clear();
                assertEquals(-99f, whole.get(2), "copyTo(" + kind(dst) + ") wrote before the position");
                assertEquals(-99f, whole.get(38), "copyTo(" + kind(dst) + ") wrote past the limit");
                assertEquals(3, dst.position(), "copyTo(" + kind(dst) + ") must leave the position");
                assertEquals(38, dst.limit(), "copyTo(" + kind(dst) + ") must leave the limit");
            }
            float[] into = new float[35];
            t.copyTo(into);
            assertArrayEquals(values, into, "copyTo(float[])");
        }
    }

    @Test
    void hostCopiesRefuseWrongSizesClosedTensorsAndReadOnlyTargets() {
        FloatBuffer five = FloatBuffer.allocate(9).position(2).limit(7);
        expectIae(() -> backend.tensor(five, 2, 3), "5", "position 2", "limit 7", "[2, 3]", "6");
        try (Tensor t = backend.zeros(2, 3)) {
            expectIae(() -> t.copyFrom(new float[5]), "src", "5", "[2, 3]", "6");
            expectIae(() -> t.copyFrom(five), "src", "5", "position 2", "[2, 3]", "6");
            expectIae(() -> t.copyTo(new float[7]), "dst", "7", "[2, 3]", "6");
            expectIae(() -> t.copyTo(FloatBuffer.allocate(7)), "dst", "7", "[2, 3]", "6");
            expectIae(() -> t.copyTo(FloatBuffer.allocate(6).asReadOnlyBuffer()), "dst", "read-only");
            expectIae(() -> t.copyFrom((float[]) null), "src", "null");
            expectIae(() -> t.copyTo((FloatBuffer) null), "dst", "null");
            assertArrayEquals(new float[6], t.toArray(), "a refused copy must change nothing");
        }
        try (Tensor t = backend.zeros(2, 3); Tensor seven = backend.zeros(7); Tensor open = backend.zeros(3, 2);
             Tensor foreign = ForeignBackend.INSTANCE.zeros(2, 3)) {
            expectIae(() -> t.copyFrom(seven), "src", "[7]", "7", "[2, 3]", "6");
            expectIae(() -> t.copyFrom(foreign), "src", ForeignBackend.INSTANCE.name(), backend.name());
            expectIae(() -> t.copyFrom((Tensor) null), "src", "null");
            Tensor gone = backend.zeros(3, 2);
            gone.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.copyFrom(gone));
            assertTrue(e.getMessage().contains("src") && e.getMessage().contains("closed"), e.getMessage());
            try (Tensor six = backend.tensor(new float[] {1, 2, 3, 4, 5, 6}, 6)) {
                t.copyFrom(six); // closed right after: the queued copy must still read its values
            }
            open.copyFrom(t);
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, open.toArray(), "copyFrom(tensor), row-major");
        }
        Tensor closed = backend.zeros(2, 3);
        closed.close();
        for (org.junit.jupiter.api.function.Executable call : List.<org.junit.jupiter.api.function.Executable>of(
                () -> closed.copyFrom(new float[6]), () -> closed.copyFrom(FloatBuffer.allocate(6)),
                () -> closed.copyTo(new float[6]), () -> closed.copyTo(FloatBuffer.allocate(6)),
                () -> closed.copyFrom(closed))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call);
            assertTrue(e.getMessage().contains("closed") && e.getMessage().contains("[2, 3]"), e.getMessage());
        }
    }

    /**
     * A copy into a tensor runs after the work already queued, which still sees the old values; the caller's
     * array or buffer may be overwritten as soon as the copy returns.
     */
    @Test
    void aCopyIntoATensorThatQueuedWorkReadsLeavesThatWorksResult() {
        Random r = new Random(17);
        int n = 192, in = 384, out = 160;
        float[] x = randn(r, n * in), w1 = randn(r, out * in), w2 = randn(r, out * in), b = randn(r, out);
        Dropout d = Dropout.train(0.25f, 3, 4);
        float[] y1 = forwardOnce(x, w1, b, d, n, in, out);
        float[] y2 = forwardOnce(x, w2, b, d, n, in, out);
        FloatBuffer direct = ByteBuffer.allocateDirect(4 * w2.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
        direct.put(0, w2);
        float[] heap = w2.clone();
        for (String how : new String[] {"a direct buffer", "an array", "a tensor"}) {
            try (Tensor tx = backend.tensor(x, n, in); Tensor tw = backend.tensor(w1, out, in);
                 Tensor tb = backend.tensor(b, out); Tensor source = backend.tensor(w2, out * in)) {
                Tensor first = backend.linear(tx, tw, tb, Activation.relu(), d, null);
                switch (how) {
                    case "a direct buffer" -> {
                        tw.copyFrom(direct);
                        for (int i = 0; i < w2.length; i++) {
                            direct.put(i, Float.NaN); // the caller reuses its buffer at once
                        }
                    }
                    case "an array" -> {
                        tw.copyFrom(heap);
                        Arrays.fill(heap, Float.NaN);
                    }
                    default -> {
                        tw.copyFrom(source); // another shape of the same size
                        source.copyFrom(new float[w2.length]); // queued after: the copy must have its values
                    }
                }
                try (first; Tensor second = backend.linear(tx, tw, tb, Activation.relu(), d, null)) {
                    assertArrayEquals(y1, first.toArray(), "work queued before the copy from " + how
                            + " must see the old values");
                    assertArrayEquals(y2, second.toArray(), "work queued after the copy from " + how
                            + " must see the new values, unharmed by the caller reusing its data");
                }
            }
        }
    }

    private float[] forwardOnce(float[] x, float[] w, float[] b, Dropout d, int n, int in, int out) {
        try (Tensor tx = backend.tensor(x, n, in); Tensor tw = backend.tensor(w, out, in);
             Tensor tb = backend.tensor(b, out); Tensor y = backend.linear(tx, tw, tb, Activation.relu(), d, null)) {
            return y.toArray();
        }
    }

    // ---- memory ----------------------------------------------------------------------------------------------

    @Test
    void shapesWhoseElementCountOverflowsAnIntAreRefusedNamingTheShape() {
        expectIae(() -> backend.zeros(65536, 65536), "[65536, 65536]", "2^31");
        expectIae(() -> backend.tensor(new float[1], 65536, 65536), "[65536, 65536]", "2^31");
        expectIae(() -> backend.tensor(FloatBuffer.allocate(1), 65536, 65536), "[65536, 65536]", "2^31");
        expectIae(() -> backend.dropoutMask(65536, 65536, Dropout.eval()), "[65536, 65536]", "2^31");
        try (Tensor x = backend.zeros(65536, 1); Tensor w = backend.zeros(65536, 1); Tensor b = backend.zeros(65536)) {
            expectIae(() -> backend.linear(x, w, b, Activation.relu(), Dropout.eval(), null), "y",
                    "[65536, 65536]", "2^31");
        }
    }

    /**
     * The largest tensor there is (8 GiB) again and again until the backend refuses one: the CPU backends at once
     * (the suites' heap is 4 GiB), OpenCL at once (its suites run with a 1 GiB memory limit), a GPU once full.
     * The refusal names the numbers, and the backend goes on computing right answers.
     */
    @Test
    void anAllocationTheDeviceCannotHoldIsRefusedAndTheBackendKeepsWorking() {
        int rows = 65535, cols = 32767; // 8 GiB of floats, just under the most an array holds
        List<Tensor> held = new ArrayList<>();
        DeviceMemoryException refused = null;
        try {
            for (int i = 0; i < 64 && refused == null; i++) {
                try {
                    held.add(backend.zeros(rows, cols));
                } catch (DeviceMemoryException e) {
                    refused = e;
                }
            }
        } finally {
            held.forEach(Tensor::close);
        }
        assertTrue(refused != null, "64 tensors of 8 GiB were all allocated");
        String m = refused.getMessage();
        assertEquals(4L * rows * cols, refused.requestedBytes());
        assertFalse(refused.device().isBlank(), m);
        for (long v : new long[] {refused.requestedBytes(), refused.inUseBytes(), refused.availableBytes()}) {
            assertTrue(m.contains(v + " bytes"), "message '" + m + "' should name " + v + " bytes");
        }
        assertTrue(m.startsWith(refused.device()) && m.contains("in use") && m.contains("available"), m);
        assertTrue(refused.availableBytes() < refused.requestedBytes(), m);
        checkForward(37, 50, 29, Activation.relu(), Dropout.train(0.5f, 1, 2), new Random(3));
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
