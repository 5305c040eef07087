package dev.fuse4j.bench.compare;

import dev.fuse4j.bench.peers.LayerInputs;
import dev.fuse4j.bench.peers.PreparedLayer;

import java.util.Arrays;
import java.util.function.Function;

/**
 * Times one case (a backend or peer at a shape): forward, then backward, each warmed up and then timed until its half
 * of the case's time budget is spent (or {@code --reps} calls), so a median covers at least a quarter of the budget at
 * every shape, 2.5 s by default. Seven reps alone were 5 ms at 128×784→512 on the cpu backend: a burst of load on these
 * shared machines moved the whole median, where over seconds of calls it moves a few of them. A peer whose whole batch
 * would not fit the budget is timed on its first rows instead ({@link Measured#rows()}); its per-row cost, and so its
 * GFLOP/s, stays the same, and the table says so.
 */
final class CaseTimer {
    /** Rows of the first slice used to estimate a slow peer's cost per row. */
    private static final int PROBE_ROWS = 8;
    /** A full call may use at most this share of a measurement's budget, so warm-up and a few reps still fit. */
    private static final double MAX_CALL_SHARE = 0.25;
    /**
     * Warm-up runs at least this long (within a third of the budget): the JIT needs it for every path, and a call can
     * sit on a slow plateau for over a second, which "stopped getting faster" alone cannot tell (figures in
     * docs/performance.md).
     */
    private static final double MIN_WARMUP_SECONDS = 2.5;
    /** Warm-up ends once this many calls in a row have not beaten the best by {@link #IMPROVEMENT}. */
    private static final int SETTLED_CALLS = 3;
    private static final double IMPROVEMENT = 0.9;
    /** Timed calls kept at most (8 MiB of samples): tiny shapes or a long budget could otherwise fill the heap. */
    static final int MAX_SAMPLES = 1 << 20;

    private final int warmup;
    private final int reps;
    private final double budgetSeconds;

    /** What was measured: on how many rows of the batch, forward and backward seconds per call. */
    record Measured(int rows, Stats forward, Stats backward) {
    }

    CaseTimer(int warmup, int reps, double budgetSeconds) {
        this.warmup = warmup;
        this.reps = reps;
        this.budgetSeconds = budgetSeconds;
    }

    /**
     * Prepares the layer with {@code prepare} (on fewer rows when {@code mayCapRows} and the whole batch is too
     * slow), times it and closes it.
     */
    Measured time(LayerInputs in, Function<LayerInputs, PreparedLayer> prepare, boolean mayCapRows) {
        double half = budgetSeconds / 2;
        int rows = mayCapRows ? rowsThatFit(in, prepare, half * MAX_CALL_SHARE) : in.shape().n();
        try (PreparedLayer layer = prepare.apply(in.firstRows(rows))) {
            Stats f = measure(layer::forward, half);
            Stats b = measure(layer::backward, half);
            return new Measured(rows, f, b);
        }
    }

    /**
     * The rows whose forward takes about {@code maxCallSeconds}: times growing slices of the batch, each call also
     * warming the code up, until one takes long enough to extrapolate from or the whole batch is reached.
     */
    private static int rowsThatFit(LayerInputs in, Function<LayerInputs, PreparedLayer> prepare,
                                   double maxCallSeconds) {
        int n = in.shape().n();
        int rows = Math.min(n, PROBE_ROWS);
        while (true) {
            double t;
            try (PreparedLayer probe = prepare.apply(in.firstRows(rows))) {
                probe.forward();
                long t0 = System.nanoTime();
                probe.forward();
                t = (System.nanoTime() - t0) / 1e9;
            }
            if (rows == n && t <= maxCallSeconds) {
                return n;
            }
            if (t >= maxCallSeconds / 8 || rows == n) {
                long fit = (long) Math.floor(rows * maxCallSeconds / Math.max(t, 1e-9));
                return (int) Math.max(1, Math.min(n, fit));
            }
            rows = Math.min(n, rows * 4);
        }
    }

    /**
     * Runs {@code op} untimed at least {@code warmup} times and {@value #MIN_WARMUP_SECONDS} s, and on until it
     * stops getting faster (the JIT is done), within half of {@code budget}; then timed calls until the budget is
     * spent or {@code reps} (at most {@value #MAX_SAMPLES}) were made, at least one.
     */
    Stats measure(Runnable op, double budget) {
        long start = System.nanoTime();
        long deadline = start + (long) (budget * 1e9);
        long warmLimit = start + (long) (budget / 2 * 1e9);
        long warmMin = start + (long) (Math.min(MIN_WARMUP_SECONDS, budget / 3) * 1e9);
        double best = Double.POSITIVE_INFINITY;
        int calls = 0;
        int sinceBetter = 0;
        while (System.nanoTime() < warmLimit
                && (calls < warmup || System.nanoTime() < warmMin || sinceBetter < SETTLED_CALLS)) {
            long t0 = System.nanoTime();
            op.run();
            double t = (System.nanoTime() - t0) / 1e9;
            calls++;
            if (t < best * IMPROVEMENT) {
                sinceBetter = 0;
            } else {
                sinceBetter++;
            }
            best = Math.min(best, t);
        }
        int most = Math.min(reps, MAX_SAMPLES);
        double[] times = new double[Math.min(most, 64)];
        int done = 0;
        while (done < most && (done == 0 || System.nanoTime() < deadline)) {
            if (done == times.length) {
                times = Arrays.copyOf(times, Math.min(most, 2 * done));
            }
            long t0 = System.nanoTime();
            op.run();
            times[done++] = (System.nanoTime() - t0) / 1e9;
        }
        return Stats.of(Arrays.copyOf(times, done));
    }
}
