package com.example.fuse4j;

import dev.fuse4j.Backend;
import dev.fuse4j.Backends;
import dev.fuse4j.Dropout;
import dev.fuse4j.Philox;
import dev.fuse4j.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a user's test of Fuse4J looks like, run by Surefire with the argLine the README gives. */
class FusedLayerDemoTest {

    @Test
    void theArgLineGivesTheCpuBackendTheVectorApi() {
        Backend cpu = Backends.get("cpu");
        assertTrue(cpu.device().contains("Vector API"),
                "without --add-modules jdk.incubator.vector the cpu backend runs scalar loops: " + cpu.device());
    }

    @Test
    void trainingModeKeepsThePhiloxMaskAndScalesByTwo() {
        Backend backend = Backends.select();
        // Seed 1 at offset 3 keeps element 1 (z = 5.8) and drops element 3 (z = 1.3): both cases are checked.
        Dropout d = Dropout.train(0.5f, 1L, 3L);
        float[] z = {-0.65f, 5.8f, -0.4f, 1.3f}; // x·Wᵀ + b for FusedLayerDemo's data, worked by hand
        try (Tensor x = backend.tensor(FusedLayerDemo.X, 2, 3);
             Tensor w = backend.tensor(FusedLayerDemo.W, 2, 3);
             Tensor b = backend.tensor(FusedLayerDemo.B, 2);
             Tensor y = backend.linearReluDropout(x, w, b, d)) {
            float[] got = y.toArray();
            for (int e = 0; e < z.length; e++) {
                float expected = Philox.keep(e, d) ? Math.max(z[e], 0f) * 2f : 0f;
                assertEquals(expected, got[e], 1e-5f, "element " + e);
            }
        }
    }
}
