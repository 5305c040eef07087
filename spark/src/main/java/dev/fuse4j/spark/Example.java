package dev.fuse4j.spark;

import java.io.Serializable;

/**
 * One training example as it travels through Spark: its features and its class index (as a float, the form
 * {@link dev.fuse4j.Backend#softmaxCrossEntropy} takes labels in).
 *
 * @param features the input row; not copied, so leave it unchanged once handed over
 * @param label    the class index
 */
public record Example(float[] features, float label) implements Serializable {
}
