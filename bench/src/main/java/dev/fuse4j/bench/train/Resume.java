package dev.fuse4j.bench.train;

import dev.fuse4j.nn.Checkpoint;
import dev.fuse4j.nn.Optimizer;
import dev.fuse4j.nn.Sequential;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Picks a run up where its checkpoint left it: restores model and optimizer, checks that the optimizer steps taken
 * fit this invocation's batches per epoch, and takes the epochs before it from the history file.
 */
final class Resume {
    private Resume() {
    }

    /** The checkpoint cannot be continued with this invocation's options; the message says why and what to do. */
    static final class Mismatch extends Exception {
        private static final long serialVersionUID = 1L;

        Mismatch(String message) {
            super(message);
        }
    }

    /**
     * Restores {@code ckpt} into the model and the optimizer and returns the epochs it completed.
     *
     * @throws Mismatch when its step count does not fit {@code examples} in batches of {@code batch}: another
     *                  {@code --batch} or {@code --limit} would silently shift every later epoch
     */
    static int restore(Path ckpt, Sequential model, Optimizer opt, int examples, int batch)
            throws IOException, Mismatch {
        int done = (int) Checkpoint.restore(ckpt, model, opt);
        int batches = (examples + batch - 1) / batch;
        if (opt.steps() != (long) done * batches) {
            throw new Mismatch(String.format(Locale.ROOT, "cannot resume %s: it took %d optimizer steps in %d epochs, "
                    + "but %d examples in batches of %d make %d steps per epoch; resume with the --batch and --limit "
                    + "of the run that wrote it", ckpt, opt.steps(), done, examples, batch, batches));
        }
        return done;
    }

    /** The rows of {@code previous} for {@code run} up to epoch {@code done}; a warning on {@code err} for gaps. */
    static List<Epoch> earlierEpochs(List<Epoch> previous, String run, int done, Path historyFile, PrintStream err) {
        List<Epoch> before = previous.stream().filter(e -> e.run().equals(run) && e.epoch() <= done).toList();
        if (before.size() != done) {
            err.printf(Locale.ROOT, "warning: %s has %d of the %d epochs before the resume; the plot has gaps there%n",
                    historyFile, before.size(), done);
        }
        return before;
    }
}
