package dev.fuse4j.spark;

import java.io.Serializable;

/**
 * How a data-parallel run walks its data: global batches of {@code batchSize} examples in the order
 * {@link dev.fuse4j.nn.Training#shuffledOrder} gives each epoch, each batch cut into {@code slices} contiguous
 * slices that run side by side and whose gradients are summed in slice order.
 *
 * @param batchSize   examples per optimizer step (the global batch)
 * @param slices      slices per batch (N: the Spark tasks of a step)
 * @param epochs      passes over the data, counted from the first (a resumed run stops at the same count)
 * @param shuffleSeed the seed of every epoch's order
 */
public record TrainingPlan(int batchSize, int slices, int epochs, long shuffleSeed) implements Serializable {

    public TrainingPlan {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be > 0 but is " + batchSize);
        }
        if (slices <= 0) {
            throw new IllegalArgumentException("slices per batch must be > 0 but is " + slices);
        }
        if (epochs <= 0) {
            throw new IllegalArgumentException("epochs must be > 0 but is " + epochs);
        }
    }

    /** Optimizer steps in one epoch over {@code examples}. */
    public int steps(int examples) {
        return (examples + batchSize - 1) / batchSize;
    }

    /** Examples in batch {@code step} of an epoch over {@code examples}: the batch size, or fewer in the last. */
    public int batchRows(int step, int examples) {
        return Math.min(batchSize, examples - step * batchSize);
    }

    /** The first row, within a batch of {@code rows}, of slice {@code k}: slices differ in size by one at most. */
    public int sliceStart(int k, int rows) {
        return (int) ((long) k * rows / slices);
    }

    /** The slice that row {@code r} of a batch of {@code rows} belongs to (the inverse of {@link #sliceStart}). */
    public int sliceOf(int r, int rows) {
        return (int) (((long) (r + 1) * slices + rows - 1) / rows) - 1;
    }
}
