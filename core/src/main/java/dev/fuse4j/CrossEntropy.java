package dev.fuse4j;

/**
 * Result of {@link Backend#softmaxCrossEntropy}: the mean loss over the batch and the number of rows whose
 * arg-max matches the label (the only values that cross to the host), and the gradient of the mean loss with
 * respect to the logits, which stays on the device. For rows of a larger batch (the {@code batchSize} overload)
 * the loss is these rows' share of the whole batch's mean and the gradient that of the whole batch's mean loss.
 * Closing closes the gradient.
 */
public record CrossEntropy(float loss, int correct, Tensor grad) implements AutoCloseable {
    @Override
    public void close() {
        grad.close();
    }
}
