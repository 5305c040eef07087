package dev.fuse4j.bench.train;

/**
 * One training run's figures after one epoch. The running loss is the mean over the epoch's batches in training mode
 * (dropout on, weights moving); the training loss is measured after the epoch in evaluation mode on the first
 * {@value TrainingData#TRAIN_EVAL_EXAMPLES} training examples, so it compares with the validation loss like for like.
 */
record Epoch(String run, int epoch, double runningLoss, double runningAccuracy, double trainLoss,
             double trainAccuracy, double valLoss, double valAccuracy, double seconds) {
}
