package dev.fuse4j.bench.compare;

import java.util.Arrays;

/** Seconds per call over the timed repetitions: median and spread. */
public record Stats(double median, double min, double max, int reps) {

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

    /** Shortest warm-up: the JIT needs about a second of calls before every path of a backend is compiled. */
    private static final double MIN_WARMUP_SECONDS = 1.0;

    /**
     * Runs {@code op} untimed at least {@code warmup} times and for at least {@value #MIN_WARMUP_SECONDS} s (within
     * a third of the budget), then up to {@code reps} timed times or until the budget is spent (at least once).
     */
    static Stats measure(Runnable op, int warmup, int reps, double budgetSeconds) {
        long now = System.nanoTime();
        long deadline = now + (long) (budgetSeconds * 1e9);
        long warmEnd = now + (long) (Math.min(MIN_WARMUP_SECONDS, budgetSeconds / 3) * 1e9);
        for (int i = 0; (i < warmup || System.nanoTime() < warmEnd) && System.nanoTime() < deadline - (deadline - now) / 2;
             i++) {
            op.run();
        }
        double[] t = new double[reps];
        int done = 0;
        while (done < reps && (done == 0 || System.nanoTime() < deadline)) {
            long t0 = System.nanoTime();
            op.run();
            t[done++] = (System.nanoTime() - t0) / 1e9;
        }
        return of(Arrays.copyOf(t, done));
    }

    /** GFLOP/s at the median. */
    double gflops(double flops) {
        return flops / median / 1e9;
    }
}
