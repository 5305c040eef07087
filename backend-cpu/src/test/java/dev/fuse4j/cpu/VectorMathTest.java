package dev.fuse4j.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;

import static dev.fuse4j.cpu.Tuning.L;
import static dev.fuse4j.cpu.Tuning.S;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link VectorMath} at this JVM's vector width (the build runs it at every width, and the tests tagged
 * {@code interpreted} once more under {@code -Xint}):
 * accuracy against StrictMath in double, the special values the activations meet, and the same bits as a scalar
 * replay of its operations both on first call and once C2 has compiled it.
 */
class VectorMathTest {
    /** Calls after which C2 has compiled the vector methods (its threshold is about ten thousand invocations). */
    private static final int WARM_CALLS = 200_000;
    /**
     * Error bounds in ulps of the correctly rounded float. exp and expm1: the reduction and the Taylor tail add well
     * under 0.1 ulp, the float Horner steps and the final fma a little over 1; tanh adds the rounding of expm1's
     * argument doubling (none), of {@code t + 2} and of the division to expm1's error, each up to half an ulp.
     */
    private static final double EXP_ULPS = 2;
    private static final double TANH_ULPS = 3;
    static volatile float warmSink;

    @Test
    void expIsWithinItsBoundOfStrictMath() {
        assertWithin("exp", VectorMath::exp, StrictMath::exp, EXP_ULPS,
                sweep(0f, 1f, -1f, -87.33655f, -103.27893f, 88.72284f, 20f, -20f));
    }

    @Test
    void expm1IsWithinItsBoundOfStrictMath() {
        assertWithin("expm1", VectorMath::expm1, StrictMath::expm1, EXP_ULPS,
                sweep(0f, 1f, -1f, 0.34657359f, -0.34657359f, -17.32868f, 88.72284f, 1e-7f, -1e-7f));
    }

    @Test
    void tanhIsWithinItsBoundOfStrictMath() {
        assertWithin("tanh", VectorMath::tanh, StrictMath::tanh, TANH_ULPS,
                sweep(0f, 1f, -1f, 9.010913f, -9.010913f, 0.55f, -0.55f, 1e-4f, -1e-4f));
    }

    @Test
    @Tag("interpreted")
    void specialValuesComeOutAsTheScalarEpilogueTakesThem() {
        float inf = Float.POSITIVE_INFINITY;
        float[] x = {Float.NaN, inf, -inf, 0f, -0f, 200f, -200f, Float.MIN_VALUE, -Float.MIN_VALUE};
        assertLanes("exp", VectorMath::exp, x, Float.NaN, inf, 0f, 1f, 1f, inf, 0f, 1f, 1f);
        assertLanes("expm1", VectorMath::expm1, x, Float.NaN, inf, -1f, 0f, -0f, inf, -1f, Float.MIN_VALUE,
                -Float.MIN_VALUE);
        assertLanes("tanh", VectorMath::tanh, x, Float.NaN, 1f, -1f, 0f, -0f, 1f, -1f, Float.MIN_VALUE,
                -Float.MIN_VALUE);
    }

    /**
     * Lane for lane the bits of {@link Replay}, on the first calls (interpreted, in the build's {@code -Xint} run) and
     * again after {@link #WARM_CALLS} calls of each function, by which C2 has compiled them.
     */
    @Test
    @Tag("interpreted")
    void sameBitsAsTheScalarReplayOnFirstCall() {
        assertSameBitsAsReplay("on first call");
    }

    @Test
    void sameBitsAsTheScalarReplayAfterC2Compiles() {
        Assumptions.assumeFalse(System.getProperty("java.vm.info", "").contains("interpreted"),
                "the JVM runs interpreted only (-Xint): nothing to compile");
        float[] x = inputs();
        FloatVector v = FloatVector.fromArray(S, x, 0);
        float sink = 0f;
        for (int i = 0; i < WARM_CALLS; i++) {
            sink += VectorMath.exp(v).lane(0) + VectorMath.expm1(v).lane(0) + VectorMath.tanh(v).lane(0);
        }
        warmSink = sink; // the loop's results stay live, so C2 cannot drop the calls
        assertSameBitsAsReplay("after " + WARM_CALLS + " calls");
    }

    private static void assertSameBitsAsReplay(String when) {
        float[] x = inputs();
        check(when, "exp", VectorMath::exp, Replay::exp, x);
        check(when, "expm1", VectorMath::expm1, Replay::expm1, x);
        check(when, "tanh", VectorMath::tanh, Replay::tanh, x);
    }

    private static void check(String when, String name, UnaryOperator<FloatVector> f, FloatUnary replay, float[] x) {
        float[] got = apply(f, x);
        for (int i = 0; i < x.length; i++) {
            float want = replay.apply(x[i]);
            if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want)) {
                fail(name + "(" + x[i] + ") " + when + ": the vector gave " + got[i] + " (0x"
                        + Integer.toHexString(Float.floatToRawIntBits(got[i])) + "), the scalar replay " + want
                        + " (0x" + Integer.toHexString(Float.floatToRawIntBits(want)) + ")");
            }
        }
    }

    /** Special values, a grid over the activations' ranges and random floats, a whole number of vectors. */
    private static float[] inputs() {
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE,
            -Float.MIN_VALUE, Float.MIN_NORMAL, 1e-30f, -1e-8f, 100f, -100f, 88.72284f, 88.7229f, -87.33655f, -104f,
            0.34657359f, -0.34657359f, 0.5f, -0.5f, 9.010913f, -17.32868f};
        int n = 4096;
        float[] x = new float[n];
        System.arraycopy(special, 0, x, 0, special.length);
        Random r = new Random(5);
        for (int i = special.length; i < n; i++) {
            x[i] = i % 2 == 0 ? (i - n / 2) / 64f : (float) (r.nextGaussian() * 30);
        }
        return x;
    }

    private static float[] apply(UnaryOperator<FloatVector> f, float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += L) {
            f.apply(FloatVector.fromArray(S, x, i)).intoArray(y, i);
        }
        return y;
    }

    /**
     * Every float in a run of 2^17 on each side of each centre (consecutive bit patterns), then 2^20 uniform floats in
     * [-110, 110]; padded with zeros to whole vectors.
     */
    private static float[] sweep(float... centres) {
        int run = 1 << 17;
        int random = 1 << 20;
        int n = centres.length * 2 * run + random;
        float[] x = new float[(n + L - 1) / L * L];
        int i = 0;
        for (float c : centres) {
            int bits = Float.floatToRawIntBits(c);
            for (int d = -run; d < run; d++) {
                float v = c == 0f ? Float.intBitsToFloat(Math.abs(d)) * Math.signum(d + 0.5f)
                        : Float.intBitsToFloat(bits + d);
                x[i++] = v;
            }
        }
        Random r = new Random(11);
        while (i < n) {
            x[i++] = (r.nextFloat() - 0.5f) * 220f;
        }
        return x;
    }

    private static void assertWithin(String name, UnaryOperator<FloatVector> f, DoubleUnaryOperator exact,
                                     double bound, float[] x) {
        float[] got = apply(f, x);
        double worst = 0;
        int worstAt = 0;
        for (int i = 0; i < x.length; i++) {
            double e = exact.applyAsDouble(x[i]);
            float rounded = (float) e;
            if (Float.isInfinite(rounded) || rounded == 0f && e == 0) {
                assertEquals(rounded, got[i], name + "(" + x[i] + ")");
                continue;
            }
            double ulps = Math.abs(got[i] - e) / Math.ulp(rounded);
            if (!(ulps <= worst)) { // also catches NaN
                worst = ulps;
                worstAt = i;
            }
        }
        System.getLogger(VectorMathTest.class.getName()).log(System.Logger.Level.INFO,
                "{0}: at most {1} ulps over {2} floats ({3} at {4}), width {5}", name, worst, x.length,
                got[worstAt], x[worstAt], S.vectorBitSize());
        assertTrue(worst <= bound, name + " is " + worst + " ulps off at x = " + x[worstAt] + " (gave "
                + got[worstAt] + ", exact " + exact.applyAsDouble(x[worstAt]) + "), above the bound " + bound);
    }

    private static void assertLanes(String name, UnaryOperator<FloatVector> f, float[] x, float... want) {
        float[] padded = Arrays.copyOf(x, (x.length + L - 1) / L * L);
        float[] got = apply(f, padded);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]),
                    name + "(" + x[i] + ") gave " + got[i] + ", expected " + want[i]);
        }
    }

    @FunctionalInterface
    private interface FloatUnary {
        float apply(float x);
    }

    /** {@link VectorMath}'s operations one lane at a time in plain Java: the same constants, order and roundings. */
    static final class Replay {
        private Replay() {
        }

        static float exp(float x) {
            return scaled(Math.min(Math.max(x, VectorMath.EXP_LO), VectorMath.EXP_HI), 0f);
        }

        static float expm1(float x) {
            float m = scaled(Math.min(Math.max(x, VectorMath.EXPM1_LO), VectorMath.EXP_HI), 1f);
            return Math.abs(x) < VectorMath.TINY ? x : m;
        }

        static float tanh(float x) {
            float a = Math.abs(x);
            float u = expm1(a * 2f);
            float d = u + 2f;
            float magnitude = a >= VectorMath.TANH_HALF ? -(2f / d) + 1f : u / d;
            return Float.intBitsToFloat(Float.floatToRawIntBits(magnitude)
                    | Float.floatToRawIntBits(x) & 0x80000000);
        }

        private static float scaled(float x, float c) {
            float t = Math.fma(x, VectorMath.LOG2E, VectorMath.ROUNDER);
            float k = t - VectorMath.ROUNDER;
            float r = Math.fma(k, -VectorMath.LN2_LO, Math.fma(k, -VectorMath.LN2_HI, x));
            float p = VectorMath.TAYLOR[0];
            for (int i = 1; i < VectorMath.TAYLOR.length; i++) {
                p = Math.fma(p, r, VectorMath.TAYLOR[i]);
            }
            float q = Math.fma(r * r, p, r);
            int ki = Float.floatToRawIntBits(t) - Float.floatToRawIntBits(VectorMath.ROUNDER);
            int k1 = Math.min(Math.max(ki, VectorMath.K1_MIN), VectorMath.K1_MAX);
            float s1 = Float.intBitsToFloat((k1 + 127) << 23);
            float s2 = Float.intBitsToFloat((ki - k1 + 127) << 23);
            return Math.fma(s1, q, s1 - c) * s2;
        }
    }
}
