package dev.fuse4j.spark;

import java.util.List;

/**
 * The slices of one step added up on the driver, always in slice order and left to right
 * ({@code ((g0 + g1) + g2) + ...}), so the float sums are the same bits on every run whatever order the tasks
 * finished in. Empty slices contribute nothing.
 *
 * @param gradients         the summed gradients in the model's flat layout
 * @param loss              the batch's mean loss: the slices' parts added in order
 * @param correct           the batch's correctly predicted examples
 * @param offsetsAfter      each layer's dropout offset after the step's forward pass
 * @param slowestSliceNanos the longest slice's compute time
 */
record StepSum(float[] gradients, double loss, long correct, long[] offsetsAfter, long slowestSliceNanos) {

    /** The sum of {@code results}, which must be one per slice, in slice order. */
    static StepSum of(List<SliceResult> results, int slices) {
        if (results.size() != slices) {
            throw new IllegalStateException("a step of " + slices + " slices returned " + results.size()
                    + " results");
        }
        float[] sum = null;
        double loss = 0;
        long correct = 0;
        long[] offsets = null;
        long slowest = 0;
        for (int k = 0; k < slices; k++) {
            SliceResult r = results.get(k);
            if (r.slice() != k) {
                throw new IllegalStateException("result " + k + " of a step is slice " + r.slice()
                        + "'s: results must come in slice order");
            }
            if (r.rows() == 0) {
                continue;
            }
            float[] g = r.gradients();
            if (sum == null) {
                sum = g.clone(); // the first slice as it is: adding it to zeros would turn its -0 into +0
                offsets = r.offsetsAfter();
            } else {
                for (int e = 0; e < sum.length; e++) {
                    sum[e] += g[e];
                }
            }
            loss += r.loss();
            correct += r.correct();
            slowest = Math.max(slowest, r.computeNanos());
        }
        if (sum == null) {
            throw new IllegalStateException("every slice of a step was empty");
        }
        return new StepSum(sum, loss, correct, offsets, slowest);
    }
}
