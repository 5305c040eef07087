package dev.fuse4j.cpu;

/**
 * Batch norm's statistics the plain way: per feature, the sums {@code S₁ = Σ (z − c)} and {@code S₂ = Σ (z − c)²}
 * shifted by the feature's first value {@code c} (which lies inside the batch's spread, so the variance does not cancel
 * as {@code E[z²] − E[z]²} does when the mean is large), the rows added in order.
 */
final class ShiftedSums {
    private final float[] shift;
    private final float[] s1;
    private final float[] s2;

    ShiftedSums(int out) {
        shift = new float[out];
        s1 = new float[out];
        s2 = new float[out];
    }

    /** Adds {@code z[i][j] = v}; rows in order, row 0 first (it is the shift). */
    void add(int i, int j, float v) {
        if (i == 0) {
            shift[j] = v;
        }
        float d = v - shift[j];
        s1[j] += d;
        s2[j] += d * d;
    }

    /** Writes the means {@code c + S₁/n} and biased variances {@code S₂/n − (S₁/n)²} of n rows into {@code stats}. */
    void finish(int n, float[] stats) {
        int out = shift.length;
        for (int j = 0; j < out; j++) {
            float m1 = s1[j] / n;
            float var = s2[j] / n - m1 * m1;
            stats[j] = shift[j] + m1;
            stats[out + j] = var > 0f ? var : 0f;
        }
    }
}
