package dev.fuse4j.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@code exp}, {@code expm1} and {@code tanh} of float lanes that give the same bits on every call, interpreted or
 * compiled: built only from operations that are correctly rounded (or exact) in the Vector API's Java fallback and in
 * C2's code alike (add, sub, mul, div, {@code fma}, min/max, compares, blends, integer lanewise ops and
 * reinterpretation), never from {@code lanewise(EXP/EXPM1/TANH)}, which calls StrictMath per lane before C2 compiles
 * it and a vectorised math library after, rounding the two differently.
 * <p>
 * Method: Cody–Waite reduction {@code x = k·ln2 + r}, {@code |r| <= ln2/2}, with {@code k} rounded to nearest by
 * adding {@code 1.5·2²³} (no float-to-int conversion: {@code k} is read off the sum's low mantissa bits), then
 * {@code q = eʳ − 1} from its Taylor series to degree 8 (coefficients {@code 1/n!}; the first term left out,
 * {@code r⁹/9!}, is below 2.1e-10 at {@code |r| = ln2/2}), so {@code exp x = 2ᵏ·(q + 1)} and
 * {@code expm1 x = 2ᵏ·q + (2ᵏ − 1)} in one fma, exact near 0 where {@code k = 0}. {@code 2ᵏ} is built in the
 * exponent field from integer lanes, split into two normal powers of two where {@code k} leaves their range.
 * With {@code u = expm1(2|x|)}, {@code tanh |x| = u/(u + 2)} below {@code atanh(1/2)} (accurate near 0) and
 * {@code 1 − 2/(u + 2)} from there (the subtraction from 1 is exact, so the result is as accurate as the quotient's
 * small correction), with x's sign put back. The scalar replay in the tests ({@code VectorMathTest}) repeats these
 * steps one by one.
 */
final class VectorMath {
    /** {@code 1.5·2²³}: adding it to a float of magnitude below 2²² rounds it to an integer in the low bits. */
    static final float ROUNDER = 12582912f;
    /** {@code 1/ln2} rounded to float. */
    static final float LOG2E = 0x1.715476p0f;
    /** {@code ln2} as a float and the rest ({@code ln2 − LN2_HI}, rounded to float): Cody–Waite's two parts. */
    static final float LN2_HI = 0x1.62e43p-1f;
    static final float LN2_LO = -0x1.05c61p-29f;
    /** {@code 1/n!} for n = 8 down to 2: the Taylor coefficients of {@code (eʳ − 1 − r)/r²}, highest first. */
    static final float[] TAYLOR = {1f / 40320f, 1f / 5040f, 1f / 720f, 1f / 120f, 1f / 24f, 1f / 6f, 0.5f};
    /** exp: below this the result is 0 (e^-104 < 2^-150), above {@code EXP_HI} it overflows to +Inf. */
    static final float EXP_LO = -104f;
    static final float EXP_HI = 89f;
    /** expm1: below this the result is −1 in float ({@code eˣ < 2⁻²⁵}). */
    static final float EXPM1_LO = -25f;
    /** Magnitudes below this return x itself: expm1 x and tanh x round to x there (and ±0 keeps its sign). */
    static final float TINY = 0x1p-25f;
    /** {@code atanh(1/2)}, rounded up: from here on tanh is {@code 1 − 2/(e²ˣ + 1)}, the subtraction exact. */
    static final float TANH_HALF = 0.5493062f;
    /** The range of the first factor {@code 2^k1} of {@code 2ᵏ}; the second, {@code 2^(k − k1)}, is also normal. */
    static final int K1_MIN = -100;
    static final int K1_MAX = 64;

    private VectorMath() {
    }

    /** {@code eˣ} in each lane: NaN stays NaN, +Inf and overflow give +Inf, −Inf and underflow 0. */
    static FloatVector exp(FloatVector x) {
        return scaled(x.max(EXP_LO).min(EXP_HI), 0f);
    }

    /** {@code eˣ − 1} in each lane, accurate near 0; NaN stays NaN, +Inf gives +Inf, −Inf gives −1, ±0 stays ±0. */
    static FloatVector expm1(FloatVector x) {
        FloatVector m = scaled(x.max(EXPM1_LO).min(EXP_HI), 1f);
        return m.blend(x, x.abs().compare(VectorOperators.LT, TINY));
    }

    /** {@code tanh x} in each lane: ±1 for large |x| and ±Inf (u is then +Inf), NaN stays NaN, ±0 stays ±0. */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector u = expm1(a.mul(2f));
        FloatVector d = u.add(2f);
        FloatVector magnitude = u.div(d).blend(FloatVector.broadcast(x.species(), 2f).div(d).neg().add(1f),
                a.compare(VectorOperators.GE, TANH_HALF));
        return magnitude.reinterpretAsInts().or(x.reinterpretAsInts().and(0x80000000)).reinterpretAsFloats();
    }

    /**
     * {@code 2ᵏ·(q + 1) − c} for {@code x = k·ln2 + r}, {@code q = eʳ − 1}, x already clamped to the range whose k
     * the two factors of {@code 2ᵏ} cover; c is 0 (exp) or 1 (expm1, where x's clamp keeps {@code k >= K1_MIN}, so
     * the second factor is only ever above 1 and {@code 2^k1 − 1} is subtracted before it).
     */
    private static FloatVector scaled(FloatVector x, float c) {
        FloatVector t = x.fma(LOG2E, ROUNDER);
        FloatVector k = t.sub(ROUNDER);
        FloatVector r = k.fma(FloatVector.broadcast(x.species(), -LN2_LO),
                k.fma(FloatVector.broadcast(x.species(), -LN2_HI), x));
        FloatVector p = FloatVector.broadcast(x.species(), TAYLOR[0]);
        for (int i = 1; i < TAYLOR.length; i++) {
            p = p.fma(r, FloatVector.broadcast(x.species(), TAYLOR[i]));
        }
        FloatVector q = r.mul(r).fma(p, r);
        IntVector ki = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUNDER));
        IntVector k1 = ki.max(K1_MIN).min(K1_MAX);
        FloatVector s1 = powerOfTwo(k1);
        FloatVector s2 = powerOfTwo(ki.sub(k1));
        return s1.fma(q, s1.sub(c)).mul(s2);
    }

    /** {@code 2ᵏ} for k in the normal exponents [−126, 127], written into the exponent field. */
    private static FloatVector powerOfTwo(IntVector k) {
        return k.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    }
}
