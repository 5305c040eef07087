package dev.fuse4j.bench.compare;

import dev.fuse4j.BackendStatus;
import dev.fuse4j.bench.StandardShapes.Shape;

import java.util.List;
import java.util.OptionalDouble;

/** Everything one {@code compare} run found, and the figures derived from it for the table and the report. */
record Results(String machine, double peakGflops, float p, List<BackendStatus> probe, List<PeerNote> peers,
               List<CrossCheck.Result> checks, List<Timing> timings) {

    /** A peer and whether it ran: {@code reason} is null when it did. */
    record PeerNote(String name, String description, String reason) {
    }

    /**
     * One backend or peer at one shape. {@code backward} is null when it was not timed. {@code onCpu}: it ran on
     * this machine's CPU, so its fraction of the measured CPU peak means something.
     */
    record Timing(String who, boolean peer, boolean onCpu, Shape shape, Stats forward, Stats backward) {
        double forwardGflops() {
            return forward.gflops(shape.flops());
        }

        /** Backward does two GEMMs of the forward's size. */
        double backwardGflops() {
            return backward == null ? Double.NaN : backward.gflops(2 * shape.flops());
        }

        /** Fraction of the machine's measured CPU peak, NaN for a device whose peak was not measured. */
        double fractionOf(double cpuPeakGflops) {
            return onCpu ? forwardGflops() / cpuPeakGflops : Double.NaN;
        }

        /** Bytes a forward must move (x, w, b in, y out) over the median time. */
        double forwardGBs() {
            return shape.minBytes() / forward.median() / 1e9;
        }
    }

    /** The fastest peer's forward GFLOP/s at a shape, if any peer ran there. */
    OptionalDouble bestPeerGflops(Shape s) {
        return timings.stream().filter(t -> t.peer() && t.shape().equals(s)).mapToDouble(Timing::forwardGflops).max();
    }

    /** Whether a backend failed any cross-check. */
    boolean checkFailed(String backend) {
        return checks.stream().anyMatch(c -> c.backend().equals(backend) && !c.passed());
    }

    boolean allChecksPassed() {
        return checks.stream().allMatch(CrossCheck.Result::passed);
    }
}
