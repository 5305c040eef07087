package dev.fuse4j.bench.compare;

import java.util.Arrays;

/** Seconds per call over the timed repetitions: median and spread (min, max). */
public record Stats(double median, double min, double max, int reps) {

    public Stats {
        if (reps < 1 || !(min <= median && median <= max)) {
            throw new IllegalArgumentException("stats need min <= median <= max and reps >= 1, not " + min + ", "
                    + median + ", " + max + ", " + reps);
        }
    }

    static Stats of(double[] seconds) {
        if (seconds.length == 0) {
            throw new IllegalArgumentException("no repetitions to summarise");
        }
        double[] s = seconds.clone();
        Arrays.sort(s);
        int n = s.length;
        double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        return new Stats(median, s[0], s[n - 1], n);
    }

    /** GFLOP/s at the median. */
    double gflops(double flops) {
        return flops / median / 1e9;
    }
}
