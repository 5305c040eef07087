package dev.fuse4j.reference;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.Philox;
import dev.fuse4j.PhiloxMask;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reference on cases worked by hand, and the contract code of core judged by it. */
class ReferenceTest {

    @Test
    void scaleAndThresholdComeFromP() {
        assertEquals(4.0 / 3, Reference.scale(Dropout.train(0.25f, 0, 0)));
        assertEquals(9.999997615814777, Reference.scale(Dropout.train(0.9f, 0, 0)), 1e-12); // 0.9f < 0.9
        assertEquals(0.0, Reference.scale(Dropout.train(1f, 0, 0)));
        assertEquals(1.0, Reference.scale(Dropout.eval()));
        assertEquals(15099494L << 8, Reference.threshold(Dropout.train(0.9f, 0, 0)));
        assertEquals(1L << 32, Reference.threshold(Dropout.train(1f, 0, 0)));
    }

    @Test
    void maskDrawsTheWordsOfTheContractCounter() {
        Dropout d = Dropout.train(0.5f, 0x1122334455667788L, 0x99AABBCCDDEEFF00L).withElementBase(17);
        boolean[] keep = Reference.mask(2, 3, d);
        for (int e = 0; e < keep.length; e++) {
            long element = 17 + e;
            int[] words = Philox.philox4x32_10(new int[] {(int) (element >>> 2), 0, 0xDDEEFF00, 0x99AABBCC},
                    new int[] {0x55667788, 0x11223344});
            assertEquals(Integer.toUnsignedLong(words[(int) (element & 3)]) >= 1L << 31, keep[e], "element " + e);
        }
        for (boolean k : Reference.mask(3, 3, Dropout.eval())) {
            assertTrue(k);
        }
        for (boolean k : Reference.mask(3, 3, Dropout.train(1f, 5, 6))) {
            assertFalse(k);
        }
    }

    /** Philox.keep and PhiloxMask, which the scalar paths use, draw the reference's mask at p away from 0.5. */
    @Test
    void theHostMaskCodeDrawsTheReferenceMask() {
        for (float p : new float[] {0.1f, 0.25f, 0.5f, 0.9f}) {
            Dropout d = Dropout.train(p, -3L, 1L << 35).withElementBase(5);
            boolean[] keep = Reference.mask(13, 11, d);
            PhiloxMask m = new PhiloxMask(d);
            for (int e = 0; e < keep.length; e++) {
                assertEquals(keep[e], Philox.keep(e, d), "Philox.keep, element " + e + ", p " + p);
                assertEquals(keep[e], m.keep(e), "PhiloxMask, element " + e + ", p " + p);
            }
        }
    }

    @Test
    void forwardOfASmallLayer() {
        float[] x = {1, 2};
        float[] w = {3, 4, -5, 6};
        float[] b = {0.5f, -8};
        Reference.Forward f = Reference.forward(x, w, b, 1, 2, 2, Activation.relu(), Dropout.eval());
        assertArrayEquals(new double[] {11.5, -1}, f.z().value());
        assertArrayEquals(new double[] {11.5, 0}, f.y().value());
        // magnitudes 0.5 + 3 + 8 and 8 + 5 + 12, three terms each
        assertArrayEquals(new double[] {2 * 3 * Reference.U * 11.5, 2 * 3 * Reference.U * 25}, f.z().bound());
        Reference.Forward none = Reference.forward(x, w, b, 1, 2, 2, Activation.relu(), Dropout.train(1f, 1, 1));
        assertArrayEquals(new double[] {0, 0}, none.y().value());
        assertArrayEquals(new double[] {0, 0}, none.y().bound(), "dropped elements must be exactly 0");
    }

    @Test
    void activationsAndTheirSlopes() {
        assertEquals(0.8411919906082768, Reference.activation(Activation.gelu(), 1.0), 1e-15); // gelu(1), tanh form
        assertEquals(-0.2, Reference.activation(Activation.leakyRelu(0.1f), -2.0), 1e-7);
        assertEquals(0.0, Reference.activation(Activation.relu(), -2.0));
        assertEquals(0.5 * (Math.exp(-2.0) - 1), Reference.activation(Activation.elu(0.5f), -2.0), 1e-15);
        assertEquals(3.0, Reference.activation(Activation.elu(0.5f), 3.0));
        for (Activation act : new Activation[] {Activation.gelu(), Activation.leakyRelu(0.1f), Activation.relu(),
            Activation.identity(), Activation.elu(), Activation.elu(2.5f)}) {
            for (double z : new double[] {-2.5, -0.3, 0.7, 1.4, 3}) {
                double h = 1e-6;
                double slope = (Reference.activation(act, z + h) - Reference.activation(act, z - h)) / (2 * h);
                assertEquals(slope, Reference.derivative(act, z), 1e-6, act + " at " + z);
            }
        }
    }

    /** ELU as PyTorch has it at the edges: NaN stays NaN, −∞ goes to −α, and a NaN z takes the slope 1. */
    @Test
    void eluAtNaNAndInfinities() {
        Activation elu = Activation.elu(0.5f);
        assertTrue(Double.isNaN(Reference.activation(elu, Double.NaN)));
        assertEquals(-0.5, Reference.activation(elu, Double.NEGATIVE_INFINITY));
        assertEquals(Double.POSITIVE_INFINITY, Reference.activation(elu, Double.POSITIVE_INFINITY));
        assertEquals(0.0, Reference.activation(elu, 0.0));
        assertEquals(1.0, Reference.derivative(elu, Double.NaN));
        assertEquals(0.0, Reference.derivative(elu, Double.NEGATIVE_INFINITY));
        assertEquals(0.5, Reference.derivative(elu, 0.0), "at 0 the side z <= 0 decides, as PyTorch");
        assertEquals(1.0, Reference.derivative(elu, Double.POSITIVE_INFINITY));
        assertEquals(1.0, Activation.elu().alpha(), "PyTorch's default alpha");
        assertTrue(elu.backwardNeedsPreActivation());
    }

    /**
     * The kinks and the edges as PyTorch's backward has them: ReLU's threshold test {@code z <= 0} lets NaN and +Inf
     * through, leaky ReLU's {@code z > 0} gives NaN, −Inf and 0 the slope α, the tanh-form GELU's derivative is NaN at
     * NaN and ±Inf (its second term is 0·∞).
     */
    @Test
    void derivativesAtNaNAndInfinities() {
        Activation relu = Activation.relu();
        assertEquals(1.0, Reference.derivative(relu, Double.NaN));
        assertEquals(1.0, Reference.derivative(relu, Double.POSITIVE_INFINITY));
        assertEquals(0.0, Reference.derivative(relu, Double.NEGATIVE_INFINITY));
        assertEquals(0.0, Reference.derivative(relu, 0.0));
        Activation leaky = Activation.leakyRelu(0.25f);
        assertEquals(0.25, Reference.derivative(leaky, Double.NaN));
        assertEquals(1.0, Reference.derivative(leaky, Double.POSITIVE_INFINITY));
        assertEquals(0.25, Reference.derivative(leaky, Double.NEGATIVE_INFINITY));
        assertEquals(0.25, Reference.derivative(leaky, 0.0));
        for (double z : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            assertTrue(Double.isNaN(Reference.derivative(Activation.gelu(), z)), "GELU' at " + z);
            assertEquals(1.0, Reference.derivative(Activation.identity(), z));
        }
    }

    /** ReLU's dz reads y as PyTorch's threshold backward, leaky ReLU's the mask and then the side of y. */
    @Test
    void dzAtNaNAndInfiniteOutputs() {
        float nan = Float.NaN;
        float inf = Float.POSITIVE_INFINITY;
        float[] y = {nan, inf, 0f, nan, -inf, 0f};
        float[] dy = {1, 1, 1, 1, 1, 1};
        boolean[] keep = {true, true, true, true, true, false};
        Dropout d = Dropout.train(0.5f, 1, 2);
        assertArrayEquals(new double[] {2, 2, 0, 2, 0, 0},
                Reference.dz(dy, y, null, keep, Activation.relu(), d));
        assertArrayEquals(new double[] {0.5, 2, 0.5, 0.5, 0.5, 0},
                Reference.dz(dy, y, null, keep, Activation.leakyRelu(0.25f), d));
    }

    /**
     * PReLU as PyTorch's {@code nn.PReLU}: NaN stays NaN, the side test is {@code z > 0} in both directions (so a NaN
     * z takes the slope and gives a NaN slope-gradient term), and da sums dy·s·z over the kept elements with
     * {@code z <= 0} only.
     */
    @Test
    void preluAtNaNAndInfinitiesAndItsSlopeGradient() {
        assertTrue(Double.isNaN(Reference.prelu(-0.5, Double.NaN)));
        assertEquals(Double.POSITIVE_INFINITY, Reference.prelu(-0.5, Double.NEGATIVE_INFINITY));
        assertTrue(Double.isNaN(Reference.prelu(0, Double.NEGATIVE_INFINITY)), "0·(−∞), as PyTorch's weight·input");
        assertEquals(3.0, Reference.prelu(-0.5, 3.0));
        assertEquals(1.0, Reference.prelu(-0.5, -2.0));
        assertEquals(-0.5, Reference.preluDerivative(-0.5, Double.NaN));
        assertEquals(-0.5, Reference.preluDerivative(-0.5, 0.0), "at 0 the side z > 0 fails, as PyTorch");
        assertEquals(1.0, Reference.preluDerivative(-0.5, 1e-30));
        assertTrue(Activation.prelu().backwardNeedsPreActivation());
        assertThrows(IllegalArgumentException.class, () -> Reference.activation(Activation.prelu(), 1.0));

        // Two rows of three columns; p = 0.5 with the mask drawn, eval with everything kept.
        float[] dy = {1f, 2f, 3f, 4f, 5f, 6f};
        float[] z = {-1f, 2f, Float.NaN, 0.5f, -0.25f, -3f};
        for (Dropout d : new Dropout[] {Dropout.train(0.5f, 5, 6), Dropout.eval()}) {
            boolean[] keep = Reference.mask(2, 3, d);
            double s = Reference.scale(d);
            double[] want = new double[3];
            for (int e = 0; e < 6; e++) {
                if (keep[e] && !(z[e] > 0)) {
                    want[e % 3] += dy[e] * s * z[e];
                }
            }
            Expected da = Reference.slopeGradient(dy, z, keep, 2, 3, d);
            assertEquals(want[0], da.value()[0], 1e-12);
            assertEquals(want[1], da.value()[1], 1e-12);
            assertEquals(want[2], da.value()[2], 1e-12);
            assertEquals(keep[2], Double.isNaN(da.value()[2]), "a kept NaN z makes its column's da NaN");
        }
        // The drawn mask must keep and drop some of these elements, or the loop above proves less than it says.
        boolean[] keep = Reference.mask(2, 3, Dropout.train(0.5f, 5, 6));
        int kept = 0;
        for (boolean k : keep) {
            kept += k ? 1 : 0;
        }
        assertTrue(kept > 0 && kept < 6, kept + " of 6 kept");
    }

    @Test
    void backwardOfASmallLayer() {
        float[] x = {1, 2, 3, 4};
        float[] w = {1, 1};
        float[] y = {3, 7};
        float[] dy = {1, 2};
        boolean[] keep = {true, true};
        Reference.Backward g = Reference.backward(dy, x, w, y, null, keep, 2, 2, 1, Activation.relu(),
                Dropout.eval());
        assertArrayEquals(new double[] {1, 1, 2, 2}, g.dx().value());
        assertArrayEquals(new double[] {7, 10}, g.dw().value());
        assertArrayEquals(new double[] {3}, g.db().value());
        assertArrayEquals(new double[] {2 * 3 * Reference.U * 7, 2 * 3 * Reference.U * 10}, g.dw().bound());
    }

    @Test
    void expectedJudgesErrorsAgainstTheirBounds() {
        Expected e = new Expected(new double[] {1, 0, 2}, new double[] {0.5, 0, 1});
        assertEquals(0.0, e.worstRatio(new float[] {1, 0, 2}));
        assertEquals(0.5, e.worstRatio(new float[] {1.25f, 0, 2.5f}));
        assertEquals(Double.POSITIVE_INFINITY, e.worstRatio(new float[] {1, 1e-30f, 2}));
        assertTrue(Double.isNaN(e.worstRatio(new float[] {Float.NaN, 0, 2})));
        assertEquals(-1, e.firstViolation(new float[] {1.5f, 0, 1}));
        assertEquals(2, e.firstViolation(new float[] {1, 0, 3.5f}));
        assertEquals(0, e.firstViolation(new float[] {Float.NaN, 0, 2}));
    }

    @Test
    void nanAndInfinitiesMustBeMatchedExactly() {
        double inf = Double.POSITIVE_INFINITY;
        // NaN, -Inf, and relu(-Inf) = 0, whose bound is infinite because an infinity was among its terms
        Expected e = new Expected(new double[] {Double.NaN, -inf, 0}, new double[] {Double.NaN, inf, inf});
        assertEquals(-1, e.firstViolation(new float[] {Float.NaN, Float.NEGATIVE_INFINITY, 0}));
        assertEquals(0.0, e.worstRatio(new float[] {Float.NaN, Float.NEGATIVE_INFINITY, 0}));
        assertEquals(0, e.firstViolation(new float[] {0, Float.NEGATIVE_INFINITY, 0}), "NaN became 0");
        assertEquals(1, e.firstViolation(new float[] {Float.NaN, -3e38f, 0}), "-Inf became finite");
        assertEquals(2, e.firstViolation(new float[] {Float.NaN, Float.NEGATIVE_INFINITY, 1e-3f}),
                "an infinite bound does not excuse a wrong value");
        assertEquals(Double.POSITIVE_INFINITY, e.worstRatio(new float[] {Float.NaN, Float.NEGATIVE_INFINITY, 5}));
    }

    /**
     * DropConnect's reference is the plain reference on {@code W ⊙ M · s} formed explicitly (p = ½: s = 2, so the
     * masked weights are exact floats), its mask the Philox weight stream, and its dw the plain dw masked and scaled.
     */
    @Test
    void dropConnectIsThePlainLayerOnTheMaskedWeights() {
        int n = 5, in = 11, out = 7;
        java.util.Random r = new java.util.Random(3);
        float[] x = new float[n * in], w = new float[out * in], b = new float[out], dy = new float[n * out];
        for (float[] a : new float[][] {x, w, b, dy}) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) r.nextGaussian();
            }
        }
        Dropout d = Dropout.dropConnect(0.5f, 99L, 4L);
        boolean[] keep = DropConnectReference.weightMask(out, in, d);
        float[] masked = new float[w.length];
        int dropped = 0;
        for (int k = 0; k < w.length; k++) {
            assertEquals(Philox.keepWeight(k, d), keep[k], "weight " + k);
            masked[k] = keep[k] ? w[k] * 2f : 0f;
            dropped += keep[k] ? 0 : 1;
        }
        assertTrue(dropped > 0 && dropped < w.length, dropped + " of " + w.length + " dropped");
        Reference.Forward plain = Reference.forward(x, masked, b, n, in, out, Activation.gelu(), Dropout.eval());
        Reference.Forward connect = Reference.forward(x, w, b, n, in, out, Activation.gelu(), d);
        assertArrayEquals(plain.z().value(), connect.z().value());
        assertArrayEquals(plain.y().value(), connect.y().value());
        float[] y = new float[n * out], z = new float[n * out];
        for (int e = 0; e < y.length; e++) {
            y[e] = (float) plain.y().value()[e];
            z[e] = (float) plain.z().value()[e];
        }
        Reference.Backward pb = Reference.backward(dy, x, masked, y, z, Reference.mask(n, out, Dropout.eval()), n, in,
                out, Activation.gelu(), Dropout.eval());
        Reference.Backward cb = Reference.backward(dy, x, w, y, z, Reference.mask(n, out, d), n, in, out,
                Activation.gelu(), d);
        assertArrayEquals(pb.dx().value(), cb.dx().value());
        assertArrayEquals(pb.db().value(), cb.db().value());
        for (int k = 0; k < w.length; k++) {
            assertEquals(keep[k] ? 2 * pb.dw().value()[k] : 0.0, cb.dw().value()[k], "dw " + k);
            assertEquals(keep[k] ? 2 * pb.dw().bound()[k] : 0.0, cb.dw().bound()[k], "dw bound " + k);
        }
    }
}
