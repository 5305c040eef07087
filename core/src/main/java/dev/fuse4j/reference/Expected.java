package dev.fuse4j.reference;

/**
 * A float64 result and, element by element, how far a float32 result may stray from it. A bound of 0 demands the
 * exact value (a dropped element must be 0). A NaN or an infinity must be matched by the same; so must a finite
 * value whose bound is not finite (an infinity among its terms, as in relu(-Inf) = 0).
 *
 * @param value the float64 result, row-major
 * @param bound the largest error allowed at each element, {@code >= 0}
 */
public record Expected(double[] value, double[] bound) {

    public Expected {
        if (value.length != bound.length) {
            throw new IllegalArgumentException(value.length + " values but " + bound.length + " bounds");
        }
    }

    /** The index of the first element of {@code got} outside its bound, or -1 when every element is within. */
    public int firstViolation(float[] got) {
        checkLength(got);
        for (int e = 0; e < got.length; e++) {
            if (exact(e) ? !same(got[e], value[e]) : !(Math.abs(got[e] - value[e]) <= bound[e])) {
                return e;
            }
        }
        return -1;
    }

    /**
     * The largest error of {@code got} as a fraction of its bound ({@code <= 1} passes): 0 where the error is exactly
     * 0, infinite where a bound of 0 is missed, NaN where {@code got} holds a NaN.
     */
    public double worstRatio(float[] got) {
        checkLength(got);
        double worst = 0;
        for (int e = 0; e < got.length; e++) {
            double err = got[e] - value[e];
            double r = exact(e) ? (same(got[e], value[e]) ? 0 : Float.isNaN(got[e]) ? Double.NaN
                    : Double.POSITIVE_INFINITY)
                    : err == 0 ? 0 : bound[e] == 0 ? Double.POSITIVE_INFINITY : Math.abs(err) / bound[e];
            if (Double.isNaN(r)) {
                return r;
            }
            worst = Math.max(worst, r);
        }
        return worst;
    }

    /** Whether element {@code e} must be matched exactly: a non-finite value or bound. */
    private boolean exact(int e) {
        return !Double.isFinite(value[e]) || !Double.isFinite(bound[e]);
    }

    /** The same value, NaN matching NaN. */
    private static boolean same(float got, double want) {
        return Double.isNaN(want) ? Float.isNaN(got) : got == want;
    }

    private void checkLength(float[] got) {
        if (got.length != value.length) {
            throw new IllegalArgumentException("expected " + value.length + " values but got " + got.length);
        }
    }
}
