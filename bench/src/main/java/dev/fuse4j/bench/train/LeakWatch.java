package dev.fuse4j.bench.train;

import dev.fuse4j.Tensor;
import dev.fuse4j.TensorCounts;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Warns when an epoch leaves tensors unclosed. The first epoch makes gradients and cached activations that live on;
 * every later one must close as many tensors as it makes.
 */
final class LeakWatch {
    private final PrintStream err;
    private TensorCounts last;

    LeakWatch(PrintStream err) {
        this.err = err;
    }

    /** Called after each epoch, numbered from 1. */
    void afterEpoch(int epoch) {
        TensorCounts now = Tensor.counts();
        if (last != null && now.leakedSince(last) != 0) {
            err.printf(Locale.ROOT, "warning: %+d tensors made in epoch %d were not closed: a leak%n",
                    now.leakedSince(last), epoch);
        }
        last = now;
    }
}
