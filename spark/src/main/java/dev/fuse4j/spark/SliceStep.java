package dev.fuse4j.spark;

import dev.fuse4j.Backend;
import dev.fuse4j.CrossEntropy;
import dev.fuse4j.Tensor;
import dev.fuse4j.nn.Layer;
import dev.fuse4j.nn.Sequential;

import java.util.List;

/**
 * One slice of one training step on a replica: the work a Spark task does and the one-machine reference repeats,
 * so both run the same code. A pure function of its arguments: the replica's parameters and offsets are loaded
 * from the step's state first, so whatever the replica did before does not matter.
 */
final class SliceStep {

    private SliceStep() {
    }

    /**
     * Rows {@code [rowBase, rowBase + rows)} of a batch of {@code batchRows}: forward with that batch's masks,
     * the loss over the whole batch's size, backward.
     */
    static SliceResult run(Sequential replica, StepState state, int slice, float[] x, float[] labels, int rows,
                           long rowBase, int batchRows) {
        if (rows == 0) {
            return SliceResult.empty(slice);
        }
        long start = System.nanoTime();
        replica.train();
        replica.loadParameters(state.parameters());
        List<Layer> layers = replica.layers();
        for (int i = 0; i < layers.size(); i++) {
            layers.get(i).setDropoutOffset(state.offsets()[i]);
        }
        Backend be = replica.backend();
        float loss;
        long correct;
        try (Tensor xt = be.tensor(x, rows, replica.inFeatures()); Tensor lt = be.tensor(labels, rows)) {
            Tensor logits = replica.forward(xt, rowBase);
            try (CrossEntropy ce = be.softmaxCrossEntropy(logits, lt, batchRows)) {
                loss = ce.loss();
                correct = ce.correct();
                replica.backward(ce.grad());
            }
        }
        float[] gradients = replica.exportGradients();
        return new SliceResult(slice, rows, loss, correct, gradients, offsets(replica), System.nanoTime() - start);
    }

    /** Each layer's dropout offset, in layer order. */
    static long[] offsets(Sequential model) {
        return model.layers().stream().mapToLong(Layer::dropoutOffset).toArray();
    }
}
