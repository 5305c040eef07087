package dev.fuse4j.spark;

import org.apache.spark.Partitioner;

/**
 * Sends the example at position {@code pos} of an epoch to the partition of its slice: partition {@code k} holds
 * slice {@code k} of every batch, so one task per slice reads its rows where they already are.
 */
final class SlicePartitioner extends Partitioner {
    private static final long serialVersionUID = 1L;

    private final TrainingPlan plan;
    private final int examples;

    SlicePartitioner(TrainingPlan plan, int examples) {
        this.plan = plan;
        this.examples = examples;
    }

    @Override
    public int numPartitions() {
        return plan.slices();
    }

    @Override
    public int getPartition(Object key) {
        long pos = (Long) key;
        int step = (int) (pos / plan.batchSize());
        int r = (int) (pos - (long) step * plan.batchSize());
        return plan.sliceOf(r, plan.batchRows(step, examples));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SlicePartitioner p && p.plan.equals(plan) && p.examples == examples;
    }

    @Override
    public int hashCode() {
        return plan.hashCode() * 31 + examples;
    }
}
