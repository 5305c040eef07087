package dev.fuse4j.spark;

import java.util.List;

/** Where the slices of each step run: Spark's executors, or one machine for the reference. */
interface SliceRunner extends AutoCloseable {

    /** Epoch {@code epoch} visits the examples in {@code order} (position to example index). */
    void beginEpoch(long epoch, int[] order);

    /** Every slice of batch {@code step} of the current epoch, from {@code state}; one result per slice, in order. */
    List<SliceResult> step(int step, StepState state);

    @Override
    void close();
}
