package dev.fuse4j.bench.compare;

import dev.fuse4j.BackendStatus;

import java.util.Locale;

/** The plain-text view of a run: backends, cross-checks, and the timing table. */
final class TableFormatter {
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
            sb.append("Cross-check against the float64 reference (error as a fraction of the DESIGN.md bound)\n");
            sb.append(String.format(Locale.ROOT, "  %-14s %-16s %14s %10s %10s  %s%n", "backend", "shape",
                    "mask differs", "fwd err", "bwd err", "result"));
            for (CrossCheck.Result c : r.checks()) {
                sb.append(String.format(Locale.ROOT, "  %-14s %-16s %7d/%-6d %10.3f %10.3f  %s%n", c.backend(),
                        c.shape(), c.maskDiffers(), c.maskElements(), c.forwardErrorRatio(), c.backwardErrorRatio(),
                        c.passed() ? "ok" : "FAILED"));
            }
        }
        sb.append(String.format(Locale.ROOT, "Timings (p = %s, median of the reps; CPU peak %.0f GFLOP/s measured"
                + " by an FMA loop on all cores; %% peak is given for rows that ran on this CPU)%n", r.p(), r.peakGflops()));
        sb.append(String.format(Locale.ROOT, "  %-14s %-16s %10s %17s %10s %8s %9s %7s %5s%n", "who", "shape",
                "fwd GF/s", "fwd ms (min-max)", "bwd GF/s", "fwd GB/s", "x peer", "% peak", "reps"));
        for (Results.Timing t : r.timings()) {
            double best = r.bestPeerGflops(t.shape()).orElse(Double.NaN);
            String who = (t.peer() ? "peer " : "") + t.who() + (r.checkFailed(t.who()) ? " !" : "");
            double peak = t.fractionOf(r.peakGflops());
            sb.append(String.format(Locale.ROOT, "  %-14s %-16s %10.1f %6.2f (%.2f-%.2f) %10s %8.1f %9s %7s %5d%n",
                    who, t.shape(), t.forwardGflops(), t.forward().median() * 1e3, t.forward().min() * 1e3,
                    t.forward().max() * 1e3, t.backward() == null ? "-" : String.format(Locale.ROOT, "%.1f",
                            t.backwardGflops()), t.forwardGBs(),
                    t.peer() || Double.isNaN(best) ? "-" : String.format(Locale.ROOT, "%.2fx", t.forwardGflops() / best),
                    Double.isNaN(peak) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * peak), t.forward().reps()));
        }
        if (!r.allChecksPassed()) {
            sb.append("! marks a backend that failed a cross-check: its figures are not to be trusted\n");
        }
        return sb.toString();
    }
}
