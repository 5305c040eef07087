package dev.fuse4j.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import static dev.fuse4j.cpu.Tuning.L;
import static dev.fuse4j.cpu.Tuning.S;

/**
 * Batch norm's statistics of {@code z [n, out]} on the vector path, from partial sums per group of {@code rows}
 * consecutive rows. The group size is the GEMM's micro-panel height, which the tiling fixes and the thread count does
 * not, so a GEMM task owns whole groups of the columns it computes and no two tasks ever add into one partial. Each
 * group's sums are shifted by the group's own first row ({@code d = z − z[first][j]}: {@code S₁ = Σ d},
 * {@code S₂ = Σ d²}, rows in order), which lies inside the batch's spread however large the mean. {@link #mergeInto}
 * turns each partial into a mean and a sum of squared deviations and merges them in group order with Chan et al.'s
 * pairwise update in float64, so the statistics are the same bits on every run and at every thread count.
 */
final class GroupStatistics {
    private final int n;
    private final int out;
    private final int rows;
    /** z itself: a group's shift is its first row, read once that row is stored. */
    private final float[] z;
    /** {@code S₁} and {@code S₂} of group g and column j at {@code g·out + j}. */
    private final float[] s1;
    private final float[] s2;

    GroupStatistics(int n, int out, int rows, float[] z) {
        this.n = n;
        this.out = out;
        this.rows = rows;
        this.z = z;
        int groups = (n + rows - 1) / rows;
        this.s1 = new float[groups * out];
        this.s2 = new float[groups * out];
    }

    /** Groups of {@code rows} rows in {@code n}. */
    int groups() {
        return (n + rows - 1) / rows;
    }

    /**
     * Adds row {@code i}'s values for columns {@code j0 .. j0+cols-1}, held in {@code v[t .. t+cols)}, to the
     * partial sums of its group. The group's first row must already be stored in z (it is its own shift and adds 0);
     * the rows of a group must come in order, as the GEMM's epilogue and {@link #addGroups} give them.
     */
    void addRow(float[] v, int t, int i, int j0, int cols) {
        int g = i / rows;
        int first = g * rows;
        if (i == first) {
            return;
        }
        int c = first * out + j0;
        int p = g * out + j0;
        int whole = cols - cols % L;
        for (int k = 0; k < whole; k += L) {
            FloatVector d = FloatVector.fromArray(S, v, t + k).sub(FloatVector.fromArray(S, z, c + k));
            FloatVector.fromArray(S, s1, p + k).add(d).intoArray(s1, p + k);
            FloatVector.fromArray(S, s2, p + k).add(d.mul(d)).intoArray(s2, p + k);
        }
        if (whole < cols) {
            VectorMask<Float> m = S.indexInRange(whole, cols);
            FloatVector d = FloatVector.fromArray(S, v, t + whole, m).sub(FloatVector.fromArray(S, z, c + whole, m));
            FloatVector.fromArray(S, s1, p + whole, m).add(d).intoArray(s1, p + whole, m);
            FloatVector.fromArray(S, s2, p + whole, m).add(d.mul(d)).intoArray(s2, p + whole, m);
        }
    }

    /** Adds the rows of groups {@code [from, to)} from z, each group's rows in order. */
    void addGroups(int from, int to) {
        int last = Math.min(n, to * rows);
        for (int i = from * rows; i < last; i++) {
            addRow(z, i * out, i, 0, out);
        }
    }

    /**
     * Writes the means and the biased variances into {@code stats [2, out]}: group g's mean {@code c + S₁/n_g} and
     * sum of squared deviations {@code M₂ = S₂ − S₁²/n_g} merged into the running ones of groups {@code 0 .. g-1}
     * as {@code δ = mean_g − mean}, {@code mean += δ·n_g/N}, {@code M₂ += M₂_g + δ²·n_a·n_g/N}, in float64.
     */
    void mergeInto(float[] stats) {
        double[] mean = new double[out];
        double[] m2 = new double[out];
        int groups = groups();
        for (int g = 0; g < groups; g++) {
            double na = (double) g * rows;
            double nb = Math.min(rows, n - g * rows);
            double total = na + nb;
            int c = g * rows * out;
            int p = g * out;
            for (int j = 0; j < out; j++) {
                double a1 = s1[p + j];
                double meanB = z[c + j] + a1 / nb;
                double m2B = s2[p + j] - a1 * a1 / nb;
                if (g == 0) {
                    mean[j] = meanB;
                    m2[j] = m2B;
                } else {
                    double delta = meanB - mean[j];
                    mean[j] += delta * nb / total;
                    m2[j] += m2B + delta * delta * na * nb / total;
                }
            }
        }
        for (int j = 0; j < out; j++) {
            double var = m2[j] / n;
            stats[j] = (float) mean[j];
            stats[out + j] = var > 0 ? (float) var : 0f; // also NaN to 0, as the scalar pass gives it
        }
    }
}
