package dev.fuse4j.cpu;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.Tensor;
import dev.fuse4j.reference.Reference;
import dev.fuse4j.spi.TensorBase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Paths of {@link PackedGemm} that the contract's shapes reach only in part, with each microkernel: full tiles whose
 * sums span several K blocks (the kernel adds the previous blocks' sums and the epilogue then runs in place on C),
 * work split over columns as well as rows, outputs whose rows are not a multiple of 4 long (Philox runs that start
 * mid-block), and the backward's products at the same sizes. Judged against the float64 {@link Reference} within
 * the DESIGN.md bound, on a backend with several workers even on a one-core machine.
 */
@ParameterizedClass(name = "kernel {0}")
@EnumSource(Microkernel.class)
class VectorBlockingTest {
    /**
     * {n, in, out}: K past two blocks with full tiles (of every kernel: at most 8 rows, 64 columns); few rows and many
     * columns; odd everything; rows enough for several row parts of shrinking size, with an edge.
     */
    private static final int[][] SHAPES = {{13, 600, 70}, {4, 300, 200}, {31, 517, 37}, {203, 40, 70}};
    private static final Activation[] ACTIVATIONS = {
        Activation.relu(), Activation.leakyRelu(0.1f), Activation.gelu(), Activation.identity(),
        Activation.elu(1.5f)};
    private static final WorkerPool THREE_WORKERS = new WorkerPool(3);

    @Parameter
    Microkernel kernel;

    private VectorCpuBackend backend;

    private final long liveBefore = TensorBase.liveCount();

    @BeforeEach
    void openBackend() {
        Assumptions.assumeTrue(Tuning.OPTION_PROBLEM == null, () -> "cannot run here: " + Tuning.OPTION_PROBLEM);
        backend = new VectorCpuBackend("cpu-test", THREE_WORKERS, Tuning.BLOCKING.with(kernel), KernelWarmup.none());
    }

    @AfterEach
    void nothingLeaked() {
        assertEquals(liveBefore, TensorBase.liveCount(), "tensors left open");
    }

    @Test
    void blockedForwardAndBackwardMatchFloat64() {
        for (int[] s : SHAPES) {
            for (Activation act : ACTIVATIONS) {
                check(s[0], s[1], s[2], act, Dropout.train(0.5f, 11L * s[2], 3L));
                check(s[0], s[1], s[2], act, Dropout.eval());
            }
        }
    }

    /**
     * PReLU on the same blocked paths: its slope per column read by the tile epilogue at every column offset of a
     * tile, and by the backward's dz and slope-gradient sums, against the float64 reference with the slopes.
     */
    @Test
    void blockedPreluMatchesFloat64() {
        for (int[] s : SHAPES) {
            for (Dropout d : new Dropout[] {Dropout.train(0.5f, 11L * s[2], 3L), Dropout.eval()}) {
                checkPrelu(s[0], s[1], s[2], d);
            }
        }
    }

    private void checkPrelu(int n, int in, int out, Dropout d) {
        Random r = new Random(n * 7L + in * 31L + out);
        float[] x = randn(r, n * in), w = randn(r, out * in), b = randn(r, out), dy = randn(r, n * out);
        float[] slope = randn(r, out); // both signs, and past 1
        String where = "kernel " + kernel.shape() + ", prelu, " + d + ", n=" + n + " in=" + in + " out=" + out;
        try (Tensor ta = backend.tensor(slope, out); Tensor tx = backend.tensor(x, n, in);
             Tensor tw = backend.tensor(w, out, in); Tensor tb = backend.tensor(b, out); Tensor tz = backend.zeros(n, out);
             Tensor ty = backend.linear(tx, tw, tb, Activation.prelu(ta), d, tz); Tensor tdy = backend.tensor(dy, n, out);
             LinearGrads g = backend.linearBackward(tdy, tx, tw, ty, tz, Activation.prelu(ta), d)) {
            float[] y = ty.toArray(), z = tz.toArray();
            Reference.Forward f = Reference.forward(x, w, b, n, in, out, Activation.prelu(), d, slope);
            expectWithin("y", f.y(), y, out, where);
            Reference.Backward bw = Reference.backward(dy, x, w, y, z, f.keep(), n, in, out, Activation.prelu(), d,
                    slope);
            expectWithin("dx", bw.dx(), g.dx().toArray(), in, where);
            expectWithin("dw", bw.dw(), g.dw().toArray(), in, where);
            expectWithin("db", bw.db(), g.db().toArray(), 1, where);
            expectWithin("da", bw.da(), g.da().toArray(), 1, where);
        }
    }

    private static void expectWithin(String name, dev.fuse4j.reference.Expected want, float[] got, int cols,
                                     String where) {
        int e = want.firstViolation(got);
        if (e >= 0) {
            fail(name + "[" + e / cols + "][" + e % cols + "] = " + got[e] + " but float64 gives " + want.value()[e]
                    + " (bound " + want.bound()[e] + ", " + where + ")");
        }
    }

    private void check(int n, int in, int out, Activation act, Dropout d) {
        Random r = new Random(n * 1_000_003L + in * 1_009L + out);
        float[] x = randn(r, n * in), w = randn(r, out * in), b = randn(r, out), dy = randn(r, n * out);
        String where = "kernel " + kernel.shape() + ", " + act + ", " + d + ", n=" + n + " in=" + in + " out=" + out;
        boolean[] keep = Reference.mask(n, out, d);
        double[] zRef = Reference.preActivation(x, w, b, n, in, out);
        double[] mag = Reference.magnitude(x, w, b, n, in, out);
        try (Tensor tx = backend.tensor(x, n, in); Tensor tw = backend.tensor(w, out, in);
             Tensor tb = backend.tensor(b, out); Tensor tz = backend.zeros(n, out);
             Tensor ty = backend.linear(tx, tw, tb, act, d, tz); Tensor tdy = backend.tensor(dy, n, out);
             LinearGrads g = backend.linearBackward(tdy, tx, tw, ty, tz, act, d)) {
            float[] y = ty.toArray(), z = tz.toArray();
            for (int e = 0; e < y.length; e++) {
                double ref = keep[e] ? Reference.activation(act, zRef[e]) * d.scale() : 0.0;
                double bound = keep[e] ? Reference.outputBound(act, Reference.bound(in, mag[e], 1), zRef[e], d.scale())
                        : 0;
                if (!(Math.abs(y[e] - ref) <= bound)) {
                    fail("y[" + e / out + "][" + e % out + "] = " + y[e] + " but float64 gives " + ref + " (" + where
                            + ")");
                }
            }
            double[] dz = Reference.dz(dy, y, z, keep, act, d);
            // As in the contract: GELU's and ELU's derivatives are evaluated in float32, a few ulps of their size.
            double[] slack = new double[dz.length];
            for (int e = 0; e < dz.length; e++) {
                slack[e] = keep[e] ? Reference.derivativeSlack(act) * Math.abs(dy[e]) * d.scale() : 0;
            }
            checkProduct("dx", g.dx().toArray(), n, in, out, dz, slack, (i, k, j) -> i * out + j,
                    (i, k, j) -> w[j * in + k], where);
            checkProduct("dw", g.dw().toArray(), out, in, n, dz, slack, (j, k, i) -> i * out + j,
                    (j, k, i) -> x[i * in + k], where);
            checkProduct("db", g.db().toArray(), out, 1, n, dz, slack, (j, k, i) -> i * out + j, (j, k, i) -> 1f,
                    where);
        }
    }

    /** Where, for output {@code (row, col)} and summed index {@code k}, a product reads dz. */
    private interface DzIndex {
        int at(int row, int col, int k);
    }

    /** The factor dz is multiplied by, for output {@code (row, col)} and summed index {@code k}. */
    private interface Factor {
        float at(int row, int col, int k);
    }

    private static void checkProduct(String name, float[] got, int rows, int cols, int k, double[] dz,
                                     double[] slack, DzIndex dzAt, Factor factor, String where) {
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < cols; c++) {
                double sum = 0;
                double mag = 0;
                double extra = 0;
                for (int q = 0; q < k; q++) {
                    int e = dzAt.at(i, c, q);
                    double f = factor.at(i, c, q);
                    sum += dz[e] * f;
                    mag += Math.abs(dz[e] * f);
                    extra += slack[e] * Math.abs(f);
                }
                double bound = Reference.bound(k, mag, 1.0) + extra;
                if (!(Math.abs(got[i * cols + c] - sum) <= bound)) {
                    fail(name + "[" + i + "][" + c + "] = " + got[i * cols + c] + " but float64 gives " + sum
                            + " (bound " + bound + ", " + where + ")");
                }
            }
        }
    }

    private static float[] randn(Random r, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
