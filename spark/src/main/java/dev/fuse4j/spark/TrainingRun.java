package dev.fuse4j.spark;

import java.util.List;

/**
 * The outcome of a data-parallel run.
 *
 * @param model  the trained model, ready to score with ({@link SparkScoring})
 * @param epochs the epochs this run trained (a resumed run lists only the ones after its checkpoint)
 */
public record TrainingRun(TrainedModel model, List<EpochStats> epochs) {

    public TrainingRun {
        epochs = List.copyOf(epochs);
    }

    /** The trained parameters in the model's flat layout ({@link dev.fuse4j.nn.Sequential#parameterLayout()}). */
    public float[] parameters() {
        return model.parameters();
    }
}
