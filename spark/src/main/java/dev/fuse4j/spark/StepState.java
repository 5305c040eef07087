package dev.fuse4j.spark;

import java.io.Serializable;

/**
 * What every slice of one step starts from, broadcast by the driver: the model's parameters in
 * {@link dev.fuse4j.nn.Sequential#parameterLayout()} order and each layer's dropout offset.
 *
 * @param parameters every parameter value, flat
 * @param offsets    each layer's dropout offset before the step's forward pass
 */
record StepState(float[] parameters, long[] offsets) implements Serializable {
}
