package dev.fuse4j.bench.compare;

import dev.fuse4j.BackendStatus;

import java.util.Locale;

import static dev.fuse4j.bench.report.Numbers.fixed;

/** The plain-text view of a run: backends, peers, cross-checks, and the timing table. */
final class TableFormatter {
    /** Marks a row whose backend failed a cross-check. */
    static final String FAILED_MARK = "!";
    /** Marks a row timed on fewer rows than the shape has. */
    static final String CAPPED_MARK = "*";

    private TableFormatter() {
    }

    static String format(Results r) {
        StringBuilder sb = new StringBuilder();
        sb.append("Backends\n");
        for (BackendStatus s : r.probe()) {
            sb.append("  ").append(s).append('\n');
        }
        sb.append("Peers\n");
        for (Results.PeerNote p : r.peers()) {
            sb.append("  ").append(p.name()).append(": ")
                    .append(p.reason() == null ? p.description() : "skipped (" + p.reason() + ")").append('\n');
        }
        if (!r.checks().isEmpty()) {
            sb.append("Cross-check against the float64 reference (largest error as a fraction of the DESIGN.md bound;"
                    + " <= 1 passes; peers: forward only)\n");
            sb.append(String.format(Locale.ROOT, "  %-16s %-16s %15s %9s %9s  %s%n", "who", "shape",
                    "mask differs", "fwd err", "bwd err", "result"));
            for (CrossCheck.Result c : r.checks()) {
                sb.append(String.format(Locale.ROOT, "  %-16s %-16s %15s %9s %9s  %s%n",
                        (c.peer() ? "peer " : "") + c.backend(), c.shape(), c.maskDiffers() + "/" + c.maskElements(),
                        ratio(c.forwardErrorRatio()), c.peer() ? "-" : ratio(c.backwardErrorRatio()),
                        c.passed() ? "ok" : "FAILED" + (c.error() == null ? "" : ": " + c.error())));
            }
        }
        sb.append(String.format(Locale.ROOT, "Timings: p = %s, median of the reps (min-max); a forward counts "
                + "2*n*in*out flops, a backward 4*n*in*out%n", r.p()));
        sb.append("  CPU peak ").append(r.peak().describe()).append("; % peak for rows that ran on this CPU\n");
        sb.append(String.format(Locale.ROOT, "  %-16s %-16s %9s %19s %9s %9s %8s %8s %8s %8s %7s %8s%n", "who",
                "shape", "fwd GF/s", "fwd ms (min-max)", "bwd GF/s", "bwd ms", "fwd GB/s", "fwd/peer", "fwd/gemm",
                "bwd/peer", "% peak", "fwd reps"));
        for (Results.Timing t : r.timings()) {
            String who = (t.peer() ? "peer " : "") + t.who() + (r.checkFailed(t.who()) ? " " + FAILED_MARK : "");
            String shape = t.shape() + (t.capped() ? CAPPED_MARK : "");
            if (!t.ran()) {
                sb.append(failedRow(who, shape, t.error()));
                continue;
            }
            sb.append(String.format(Locale.ROOT, "  %-16s %-16s %9s %19s %9s %9s %8s %8s %8s %8s %7s %8d%n", who,
                    shape, fixed(t.forwardGflops()), ms(t.forward()), fixed(t.backwardGflops()),
                    fixed(t.backward().median() * 1e3), fixed(t.forwardGBs()), times(r.forwardSpeedup(t)),
                    times(r.forwardOverGemm(t)), times(r.backwardSpeedup(t)),
                    percent(t.fractionOf(r.peak().gflops())), t.forward().reps()));
        }
        if (!r.gemms().isEmpty()) {
            sb.append("  Library GEMM alone (fwd/gemm is against the fastest): the forward's product, no bias, ReLU or"
                    + " dropout\n");
            sb.append(String.format(Locale.ROOT, "  %-16s %-16s %9s %19s %9s %8s%n", "gemm", "shape", "GF/s",
                    "ms (min-max)", "threads", "reps"));
            for (Results.GemmTiming g : r.gemms()) {
                if (!g.ran()) {
                    sb.append(failedRow(g.label(), g.shape().toString(), g.error()));
                    continue;
                }
                sb.append(String.format(Locale.ROOT, "  %-16s %-16s %9s %19s %9d %8d%n", g.label(), g.shape(),
                        fixed(g.gflops()), ms(g.forward()), g.threads(), g.forward().reps()));
            }
        }
        if (r.anyCapped()) {
            sb.append(String.format(Locale.ROOT, "%s timed on the first rows of the batch only, to fit the %.0f s "
                    + "budget per case:", CAPPED_MARK, r.budgetSeconds()));
            r.timings().stream().filter(Results.Timing::capped).forEach(t -> sb.append(String.format(Locale.ROOT,
                    " %s %d/%d rows at %s;", t.who(), t.rowsTimed(), t.shape().n(), t.shape())));
            sb.setLength(sb.length() - 1);
            sb.append(" (the cost per row, so GFLOP/s, is the same)\n");
        }
        if (!r.allChecksPassed()) {
            sb.append(FAILED_MARK).append(" marks a backend that failed a cross-check: its figures are not to be"
                    + " trusted\n");
        }
        return sb.toString();
    }

    /** A row whose case threw: who, the shape, and what was thrown in place of the figures. */
    private static String failedRow(String who, String shape, String error) {
        return String.format(Locale.ROOT, "  %-16s %-16s failed: %s%n", who, shape, error);
    }

    private static String ratio(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }

    private static String ms(Stats s) {
        return fixed(s.median() * 1e3) + " (" + fixed(s.min() * 1e3) + "-" + fixed(s.max() * 1e3) + ")";
    }

    private static String times(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2fx", v) : "-";
    }

    private static String percent(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f%%", 100 * v) : "-";
    }
}
