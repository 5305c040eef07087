package dev.fuse4j.spark;

import dev.fuse4j.nn.Checkpoint;
import dev.fuse4j.nn.Layer;
import dev.fuse4j.nn.Optimizer;
import dev.fuse4j.nn.Sequential;
import dev.fuse4j.nn.Training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The driver's side of synchronous data-parallel training, whatever runs the slices: per step it hands out the
 * parameters and dropout offsets, takes the slices' results in slice order, sums their gradients left to right,
 * and steps its optimizer; per epoch it writes the checkpoint. The Spark trainer and the one-machine reference
 * both run this loop, so they differ only in where the slices run.
 */
final class SynchronousLoop {
    private static final System.Logger LOG = System.getLogger(SynchronousLoop.class.getName());

    private SynchronousLoop() {
    }

    /**
     * Trains {@code model} with {@code optimizer} over {@code examples} examples as {@code plan} says, resuming
     * from {@code checkpoint} when that file exists (null: no checkpoints).
     *
     * @throws ArithmeticException at the first step whose loss is NaN or infinite, before its optimizer step
     */
    static List<EpochStats> run(Sequential model, Optimizer optimizer, TrainingPlan plan, int examples,
                                SliceRunner runner, Path checkpoint, Consumer<EpochStats> listener) {
        int first = 0;
        if (checkpoint != null && Files.exists(checkpoint)) {
            try {
                first = (int) Checkpoint.restore(checkpoint, model, optimizer);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            LOG.log(System.Logger.Level.INFO, "resuming from {0} after {1} epochs", checkpoint, first);
        }
        List<EpochStats> done = new ArrayList<>();
        for (int epoch = first; epoch < plan.epochs(); epoch++) {
            long start = System.nanoTime();
            runner.beginEpoch(epoch, Training.shuffledOrder(examples, plan.shuffleSeed(), epoch));
            int steps = plan.steps(examples);
            double lossSum = 0;
            long correct = 0;
            long sliceNanos = 0;
            for (int step = 0; step < steps; step++) {
                StepState state = new StepState(model.exportParameters(), SliceStep.offsets(model));
                List<SliceResult> results = runner.step(step, state);
                StepSum sum = StepSum.of(results, plan.slices());
                if (!Double.isFinite(sum.loss())) {
                    throw new ArithmeticException("training diverged: the loss of epoch " + epoch + " batch " + step
                            + " is " + sum.loss() + "; lower the learning rate");
                }
                model.loadGradients(sum.gradients());
                optimizer.step();
                List<Layer> layers = model.layers();
                for (int i = 0; i < layers.size(); i++) {
                    layers.get(i).setDropoutOffset(sum.offsetsAfter()[i]);
                }
                int rows = plan.batchRows(step, examples);
                lossSum += sum.loss() * rows;
                correct += sum.correct();
                sliceNanos += sum.slowestSliceNanos();
            }
            EpochStats stats = new EpochStats(epoch, lossSum / examples, (double) correct / examples, steps,
                    (System.nanoTime() - start) / 1e9, sliceNanos / 1e9);
            if (checkpoint != null) {
                try {
                    Checkpoint.save(checkpoint, model, optimizer, epoch + 1);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            done.add(stats);
            if (listener != null) {
                listener.accept(stats);
            }
        }
        return done;
    }
}
