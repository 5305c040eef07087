package com.example.fuse4j;

import dev.fuse4j.Backend;
import dev.fuse4j.Backends;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.Tensor;

import java.util.Arrays;

/**
 * The fused layer {@code y = dropout(relu(x·Wᵀ + b))} forward and backward on whatever backend Fuse4J picks, with one
 * value checked by hand. Exits with status 1 when that value is wrong.
 */
public final class FusedLayerDemo {

    private FusedLayerDemo() {
    }

    /** Two examples of three features into two outputs. */
    static final float[] X = {1f, 2f, 3f, -1f, 0.5f, 2f};
    static final float[] W = {0.5f, -1f, 0.25f, 1f, 1f, 1f};
    static final float[] B = {0.1f, -0.2f};
    /** y[0][1] in evaluation mode: relu(1 + 2 + 3 - 0.2). */
    static final float EXPECTED_Y01 = 5.8f;

    public static void main(String[] args) {
        Backend backend = Backends.select();
        System.out.println("backend " + backend.name() + ": " + backend.device());
        float[] eval;
        try (Tensor x = backend.tensor(X, 2, 3);
             Tensor w = backend.tensor(W, 2, 3);
             Tensor b = backend.tensor(B, 2);
             Tensor y = backend.linearReluDropout(x, w, b, Dropout.eval())) {
            eval = y.toArray();
            Dropout train = Dropout.train(0.5f, 1L, 3L);
            try (Tensor yTrain = backend.linearReluDropout(x, w, b, train);
                 Tensor dy = backend.tensor(new float[] {1f, 1f, 1f, 1f}, 2, 2);
                 LinearGrads g = backend.linearReluDropoutBackward(dy, x, w, yTrain, train)) {
                System.out.println("training y  = " + Arrays.toString(yTrain.toArray()));
                System.out.println("dw          = " + Arrays.toString(g.dw().toArray()));
            }
        }
        System.out.println("evaluation y = " + Arrays.toString(eval));
        if (Math.abs(eval[1] - EXPECTED_Y01) > 1e-5f) {
            System.err.println("y[0][1] is " + eval[1] + " but relu(1 + 2 + 3 - 0.2) = " + EXPECTED_Y01);
            System.exit(1);
        }
        System.out.println("y[0][1] = " + eval[1] + " as expected");
    }
}
