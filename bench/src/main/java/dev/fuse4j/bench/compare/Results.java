package dev.fuse4j.bench.compare;

import dev.fuse4j.BackendStatus;
import dev.fuse4j.spi.LinearShape;

import java.util.List;
import java.util.OptionalDouble;
import java.util.function.ToDoubleFunction;

/** Everything one {@code compare} run found, and the figures derived from it for the table and the report. */
record Results(String machine, MachinePeak.Peak peak, float p, double budgetSeconds, List<BackendStatus> probe,
               List<PeerNote> peers, List<CrossCheck.Result> checks, List<Timing> timings, List<GemmTiming> gemms) {

    /** A peer and whether it ran: {@code reason} is null when it did. */
    record PeerNote(String name, String description, String reason) {
    }

    /**
     * One backend or peer at one shape. {@code rowsTimed} is below {@code shape.n()} when a slow peer was timed on
     * the first rows only, to keep within the time budget. {@code onCpu}: it ran on this machine's CPU, so its
     * fraction of the measured CPU peak means something. {@code error} is null unless the case threw, in which
     * case the stats are null.
     */
    record Timing(String who, boolean peer, boolean onCpu, LinearShape shape, int rowsTimed, Stats forward,
                  Stats backward, String error) {

        static Timing failed(String who, boolean peer, boolean onCpu, LinearShape shape, String error) {
            return new Timing(who, peer, onCpu, shape, 0, null, null, error);
        }

        boolean ran() {
            return error == null;
        }

        /** Timed on fewer rows than the shape has. */
        boolean capped() {
            return ran() && rowsTimed < shape.n();
        }

        private LinearShape timedShape() {
            return new LinearShape(rowsTimed, shape.in(), shape.out());
        }

        double forwardGflops() {
            return ran() ? forward.gflops(timedShape().flops()) : Double.NaN;
        }

        /** Backward does two GEMMs of the forward's size. */
        double backwardGflops() {
            return ran() ? backward.gflops(2 * timedShape().flops()) : Double.NaN;
        }

        /** Fraction of the machine's measured CPU peak, NaN for a device whose peak was not measured. */
        double fractionOf(double cpuPeakGflops) {
            return onCpu ? forwardGflops() / cpuPeakGflops : Double.NaN;
        }

        /** Bytes a forward must move at least (x, w, b in, y out) over the median time. */
        double forwardGBs() {
            return ran() ? timedShape().minBytes() / forward.median() / 1e9 : Double.NaN;
        }
    }

    /**
     * A peer library's GEMM alone at a shape: the forward's product ({@code n × in} by {@code in × out}) with no
     * bias, ReLU or dropout, on the {@code threads} its peer's rows ran with. {@code error} is null unless it threw, in
     * which case {@code forward} is null.
     */
    record GemmTiming(String label, int threads, LinearShape shape, Stats forward, String error) {

        static GemmTiming failed(String label, int threads, LinearShape shape, String error) {
            return new GemmTiming(label, threads, shape, null, error);
        }

        boolean ran() {
            return error == null;
        }

        double gflops() {
            return ran() ? forward.gflops(shape.flops()) : Double.NaN;
        }
    }

    /** The fastest library GEMM alone at a shape, if one ran there. */
    OptionalDouble bestGemm(LinearShape s) {
        return gemms.stream().filter(g -> g.ran() && g.shape().equals(s)).mapToDouble(GemmTiming::gflops)
                .filter(Double::isFinite).max();
    }

    /**
     * A backend's forward speed over the fastest library GEMM alone at its shape (the forward does the GEMM and its
     * epilogue, the library only the GEMM); NaN for peers or when no GEMM was timed there.
     */
    double forwardOverGemm(Timing t) {
        return t.peer() ? Double.NaN : t.forwardGflops() / bestGemm(t.shape()).orElse(Double.NaN);
    }

    /** The fastest peer's forward GFLOP/s at a shape, if any peer ran there. */
    OptionalDouble bestPeerForward(LinearShape s) {
        return best(s, Timing::forwardGflops);
    }

    /** The fastest peer's backward GFLOP/s at a shape, if any peer ran there. */
    OptionalDouble bestPeerBackward(LinearShape s) {
        return best(s, Timing::backwardGflops);
    }

    private OptionalDouble best(LinearShape s, ToDoubleFunction<Timing> figure) {
        return timings.stream().filter(t -> t.peer() && t.ran() && t.shape().equals(s)).mapToDouble(figure)
                .filter(Double::isFinite).max();
    }

    /** A backend's forward speed over the best peer at its shape; NaN for peers or when no peer ran. */
    double forwardSpeedup(Timing t) {
        return t.peer() ? Double.NaN : t.forwardGflops() / bestPeerForward(t.shape()).orElse(Double.NaN);
    }

    /** A backend's backward speed over the best peer at its shape; NaN for peers or when no peer ran. */
    double backwardSpeedup(Timing t) {
        return t.peer() ? Double.NaN : t.backwardGflops() / bestPeerBackward(t.shape()).orElse(Double.NaN);
    }

    /** Whether a backend failed any cross-check. */
    boolean checkFailed(String backend) {
        return checks.stream().anyMatch(c -> c.backend().equals(backend) && !c.passed());
    }

    boolean allChecksPassed() {
        return checks.stream().allMatch(CrossCheck.Result::passed);
    }

    boolean anyCapped() {
        return timings.stream().anyMatch(Timing::capped);
    }
}
