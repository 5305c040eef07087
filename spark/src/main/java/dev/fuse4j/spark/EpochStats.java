package dev.fuse4j.spark;

/**
 * One epoch of a data-parallel run.
 *
 * @param epoch        the epoch, counted from 0
 * @param loss         the mean loss over its examples (in training mode, dropout on)
 * @param accuracy     the fraction of examples whose arg-max was the label during training
 * @param steps        its optimizer steps
 * @param seconds      its wall time on the driver, steps and optimizer included
 * @param sliceSeconds the sum over its steps of the slowest slice's own compute time: what the work alone takes
 *                     when the slices run in parallel, so {@code seconds - sliceSeconds} is the distribution's cost
 */
public record EpochStats(int epoch, double loss, double accuracy, int steps, double seconds, double sliceSeconds) {
}
