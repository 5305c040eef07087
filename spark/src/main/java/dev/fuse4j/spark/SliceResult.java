package dev.fuse4j.spark;

import java.io.Serializable;

/**
 * What one slice of a step hands back to the driver.
 *
 * @param slice        the slice's index in its batch
 * @param rows         its example count; 0 for an empty slice, which has no gradients
 * @param loss         its part of the batch's mean loss (its rows' losses over the whole batch's size)
 * @param correct      its rows whose arg-max is the label
 * @param gradients    its gradients in the model's flat layout, or null when empty
 * @param offsetsAfter each layer's dropout offset after the forward pass, or null when empty
 * @param computeNanos the time of the slice's own work on its backend (for the cost figures only)
 */
record SliceResult(int slice, int rows, float loss, long correct, float[] gradients, long[] offsetsAfter,
                   long computeNanos) implements Serializable {

    static SliceResult empty(int slice) {
        return new SliceResult(slice, 0, 0f, 0, null, null, 0);
    }
}
