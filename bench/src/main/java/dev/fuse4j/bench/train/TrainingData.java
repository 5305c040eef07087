package dev.fuse4j.bench.train;

import java.util.Arrays;

/**
 * The host arrays every run of one invocation trains and evaluates on, made once: labels as float class indices,
 * and the first {@value #TRAIN_EVAL_EXAMPLES} training examples for the evaluation-mode training loss.
 */
record TrainingData(IdxDataset train, float[] trainLabels, float[] fitX, float[] fitLabels, IdxDataset val,
                    float[] valLabels) {

    /** How many training examples the per-epoch evaluation-mode training loss uses. */
    static final int TRAIN_EVAL_EXAMPLES = 10_000;

    static TrainingData of(IdxDataset train, IdxDataset val) {
        float[] trainLabels = train.labelsAsFloats();
        int fitN = Math.min(TRAIN_EVAL_EXAMPLES, train.size());
        return new TrainingData(train, trainLabels, Arrays.copyOf(train.images(), fitN * train.features()),
                Arrays.copyOf(trainLabels, fitN), val, val.labelsAsFloats());
    }
}
