package dev.fuse4j.spark;

import scala.Tuple2;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Iterator;

/**
 * Slice {@code k} of every batch of one epoch, as one partition holds it: the rows in epoch order, packed, with
 * where each step's rows begin. Built once per epoch from the rows the {@link SlicePartitioner} sent here, sorted
 * by position; each step's task then reads its rows without touching the others.
 */
final class EpochShard implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int slice;
    private final int features;
    private final float[] x;
    private final float[] labels;
    /** Row index of each step's first row; {@code stepStart[steps]} is the row count. */
    private final int[] stepStart;

    private EpochShard(int slice, int features, float[] x, float[] labels, int[] stepStart) {
        this.slice = slice;
        this.features = features;
        this.x = x;
        this.labels = labels;
        this.stepStart = stepStart;
    }

    /**
     * Packs the rows of slice {@code slice}, given as (position in the epoch, example) in increasing position,
     * and checks that each step's rows are exactly the slice's rows of that batch, one after another.
     */
    static EpochShard build(int slice, Iterator<Tuple2<Long, Example>> rows, TrainingPlan plan, int examples,
                            int features) {
        int steps = plan.steps(examples);
        int capacity = 0;
        for (int s = 0; s < steps; s++) {
            int c = plan.batchRows(s, examples);
            capacity += plan.sliceStart(slice + 1, c) - plan.sliceStart(slice, c);
        }
        float[] x = new float[Math.multiplyExact(capacity, features)];
        float[] labels = new float[capacity];
        int[] stepStart = new int[steps + 1];
        int n = 0;
        int step = 0;
        while (rows.hasNext()) {
            Tuple2<Long, Example> t = rows.next();
            long pos = t._1();
            int s = (int) (pos / plan.batchSize());
            while (step < s) {
                stepStart[++step] = n;
            }
            int expected = s * plan.batchSize() + plan.sliceStart(slice, plan.batchRows(s, examples))
                    + (n - stepStart[s]);
            if (pos != expected || n == capacity) {
                throw new IllegalStateException("slice " + slice + " received the example at position " + pos
                        + " where position " + expected + " belongs");
            }
            System.arraycopy(t._2().features(), 0, x, n * features, features);
            labels[n++] = t._2().label();
        }
        while (step < steps) {
            stepStart[++step] = n;
        }
        if (n != capacity) {
            throw new IllegalStateException("slice " + slice + " received " + n + " examples but holds " + capacity);
        }
        return new EpochShard(slice, features, x, labels, stepStart);
    }

    int slice() {
        return slice;
    }

    /** The rows of step {@code step}. */
    int rows(int step) {
        return stepStart[step + 1] - stepStart[step];
    }

    /** The features of step {@code step}'s rows, {@code [rows, features]} row-major. */
    float[] x(int step) {
        return Arrays.copyOfRange(x, stepStart[step] * features, stepStart[step + 1] * features);
    }

    /** The labels of step {@code step}'s rows. */
    float[] labels(int step) {
        return Arrays.copyOfRange(labels, stepStart[step], stepStart[step + 1]);
    }
}
