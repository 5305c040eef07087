package dev.fuse4j.bench.jmh;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Counts the floating-point work a benchmark did, in units of 10^9 operations. JMH reports an operations counter
 * per second, so in throughput mode the secondary result {@code gflop} reads directly as GFLOP/s, with its error
 * bars, beside the calls per second.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class GflopCounter {
    /** GFLOP done in this iteration: {@code 2·n·in·out / 1e9} per forward, twice that per backward. */
    public double gflop;

    @Setup(Level.Iteration)
    public void reset() {
        gflop = 0;
    }
}
