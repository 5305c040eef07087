package dev.fuse4j.spark;

import dev.fuse4j.Backend;
import dev.fuse4j.nn.Optimizer;
import dev.fuse4j.nn.Parameter;
import dev.fuse4j.nn.Sequential;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Data-parallel training computed on one machine: the same N slices of every batch on N replicas of the model,
 * summed in the same order, with the same optimizer steps. {@link SparkTrainer} with the same plan and backend
 * gives these bits exactly; that is the check that Spark moved every example to its slice and every result back
 * in order. With one slice it is plain one-machine training ({@link dev.fuse4j.nn.Training#trainEpoch}).
 */
public final class SliceReference {

    private SliceReference() {
    }

    /**
     * Trains the model {@code spec} describes on {@code backend} over {@code x} ({@code [n, inFeatures]}
     * row-major) and {@code labels} ({@code [n]} class indices).
     *
     * @param optimizer  builds the optimizer over the model's parameters
     * @param checkpoint where to save each epoch and resume from, or null
     * @param listener   told after each epoch, or null
     */
    public static TrainingRun train(ModelSpec spec, TrainingPlan plan, Backend backend,
                                    Function<List<Parameter>, Optimizer> optimizer, float[] x, float[] labels,
                                    Path checkpoint, Consumer<EpochStats> listener) {
        int features = spec.inFeatures();
        if (labels.length == 0) {
            throw new IllegalArgumentException("no examples to train on");
        }
        if ((long) labels.length * features != x.length) {
            throw new IllegalArgumentException("data holds " + x.length + " values, which is not " + labels.length
                    + " examples × " + features + " features (the model's input width)");
        }
        try (Sequential model = spec.build(backend);
             Optimizer opt = optimizer.apply(model.parameters());
             Replicas replicas = new Replicas(spec, backend, plan, x, labels)) {
            List<EpochStats> epochs = SynchronousLoop.run(model, opt, plan, labels.length, replicas, checkpoint,
                    listener);
            return new TrainingRun(new TrainedModel(spec, model.exportParameters()), epochs);
        }
    }

    /** The slices of each step run one after another, each on its own replica. */
    private static final class Replicas implements SliceRunner {
        private final TrainingPlan plan;
        private final float[] x;
        private final float[] labels;
        private final int features;
        private final List<Sequential> models = new ArrayList<>();
        private int[] order;

        Replicas(ModelSpec spec, Backend backend, TrainingPlan plan, float[] x, float[] labels) {
            this.plan = plan;
            this.x = x;
            this.labels = labels;
            this.features = spec.inFeatures();
            try {
                for (int k = 0; k < plan.slices(); k++) {
                    models.add(spec.build(backend));
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        @Override
        public void beginEpoch(long epoch, int[] order) {
            this.order = order;
        }

        @Override
        public List<SliceResult> step(int step, StepState state) {
            int batchRows = plan.batchRows(step, labels.length);
            int batchStart = step * plan.batchSize();
            List<SliceResult> results = new ArrayList<>();
            for (int k = 0; k < plan.slices(); k++) {
                int r0 = plan.sliceStart(k, batchRows);
                int rows = plan.sliceStart(k + 1, batchRows) - r0;
                float[] xs = new float[rows * features];
                float[] ls = new float[rows];
                for (int i = 0; i < rows; i++) {
                    int src = order[batchStart + r0 + i];
                    System.arraycopy(x, src * features, xs, i * features, features);
                    ls[i] = labels[src];
                }
                results.add(SliceStep.run(models.get(k), state, k, xs, ls, rows, r0, batchRows));
            }
            return results;
        }

        @Override
        public void close() {
            models.forEach(Sequential::close);
        }
    }
}
