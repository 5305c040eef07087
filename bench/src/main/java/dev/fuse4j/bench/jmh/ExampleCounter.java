package dev.fuse4j.bench.jmh;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Counts the training examples a benchmark stepped through; in throughput mode the secondary result
 * {@code examples} reads as examples per second, the figure {@code ./fuse4j train} prints per epoch.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class ExampleCounter {
    /** Examples done in this iteration: the batch size per training step. */
    public long examples;

    @Setup(Level.Iteration)
    public void reset() {
        examples = 0;
    }
}
