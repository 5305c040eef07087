package dev.fuse4j.cpu;

import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.Tensor;
import dev.fuse4j.spi.TensorBase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packed copies of W kept on the tensor ({@link PackedCache}): made on the second use at one version, used
 * from then on with results identical to packing afresh, and never used after an optimizer step wrote the tensor
 * in place or after the tensor was closed.
 */
class PackedCacheTest {
    private static final int N = 9;
    private static final int IN = 70;
    private static final int OUT = 37;
    private static final Dropout D = Dropout.train(0.5f, 5L, 2L);

    private final VectorCpuBackend backend =
            new VectorCpuBackend("cpu-test", new WorkerPool(2), Tuning.BLOCKING, KernelWarmup.none());
    private final long liveBefore = TensorBase.liveCount();
    private final Random r = new Random(7);
    private final float[] x = randn(N * IN);
    private final float[] w = randn(OUT * IN);
    private final float[] b = randn(OUT);
    private final float[] dy = randn(N * OUT);

    @AfterEach
    void nothingLeaked() {
        assertEquals(liveBefore, TensorBase.liveCount(), "tensors left open");
    }

    @Test
    void keptFromTheSecondUseAndGivesTheSameResults() {
        try (Tensor tx = backend.tensor(x, N, IN); Tensor tw = backend.tensor(w, OUT, IN);
             Tensor tb = backend.tensor(b, OUT); Tensor tdy = backend.tensor(dy, N, OUT)) {
            PackedCache packs = ((CpuTensor) tw).packs;
            float[] first = forward(tx, tw, tb);
            assertFalse(packs.holds(PackedCache.FORWARD), "a copy after one use");
            float[] second = forward(tx, tw, tb);
            assertTrue(packs.holds(PackedCache.FORWARD), "no copy after the second use");
            assertArrayEquals(first, second);
            assertArrayEquals(first, forward(tx, tw, tb), "the kept copy changed the result");

            float[][] g1 = backward(tdy, tx, tw, tb);
            assertFalse(packs.holds(PackedCache.BACKWARD));
            float[][] g2 = backward(tdy, tx, tw, tb);
            assertTrue(packs.holds(PackedCache.BACKWARD));
            float[][] g3 = backward(tdy, tx, tw, tb);
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(g1[i], g2[i]);
                assertArrayEquals(g1[i], g3[i]);
            }
        }
    }

    @Test
    void sgdStepInvalidates() {
        checkStepInvalidates(false);
    }

    @Test
    void adamStepInvalidates() {
        checkStepInvalidates(true);
    }

    private void checkStepInvalidates(boolean adam) {
        try (Tensor tx = backend.tensor(x, N, IN); Tensor tw = backend.tensor(w, OUT, IN);
             Tensor tb = backend.tensor(b, OUT); Tensor tdy = backend.tensor(dy, N, OUT);
             Tensor grad = backend.tensor(randn(OUT * IN), OUT, IN); Tensor s1 = backend.zeros(OUT, IN);
             Tensor s2 = backend.zeros(OUT, IN)) {
            PackedCache packs = ((CpuTensor) tw).packs;
            for (int i = 0; i < 3; i++) {
                forward(tx, tw, tb);
                backward(tdy, tx, tw, tb);
            }
            float[] before = forward(tx, tw, tb);
            assertTrue(packs.holds(PackedCache.FORWARD) && packs.holds(PackedCache.BACKWARD));
            if (adam) {
                backend.adamStep(tw, grad, s1, s2, 0.1f, 0.9f, 0.999f, 1e-8f, 0f, 1);
            } else {
                backend.sgdStep(tw, grad, s1, 0.1f, 0.9f, 0f);
            }
            assertFalse(packs.holds(PackedCache.FORWARD) || packs.holds(PackedCache.BACKWARD),
                    "copies kept across an in-place write");
            // The optimizer's other outputs are written in place too.
            assertFalse(((CpuTensor) s1).packs.holds(PackedCache.FORWARD));
            try (Tensor fresh = backend.tensor(tw.toArray(), OUT, IN)) {
                float[] expected = forward(tx, fresh, tb);
                float[][] expectedGrads = backward(tdy, tx, fresh, tb);
                int at = firstNonZero(before);
                assertNotEquals(before[at], expected[at], 0f, "the step did nothing");
                for (int i = 0; i < 3; i++) {
                    assertArrayEquals(expected, forward(tx, tw, tb), "forward " + i + " after the step");
                    float[][] g = backward(tdy, tx, tw, tb);
                    for (int k = 0; k < 3; k++) {
                        assertArrayEquals(expectedGrads[k], g[k], "backward " + i + " after the step, output " + k);
                    }
                }
                assertTrue(packs.holds(PackedCache.FORWARD), "no copy kept at the new version");
            }
        }
    }

    @Test
    void closeDropsTheCopies() {
        CpuTensor kept;
        try (Tensor tx = backend.tensor(x, N, IN); Tensor tb = backend.tensor(b, OUT)) {
            try (Tensor tw = backend.tensor(w, OUT, IN)) {
                kept = (CpuTensor) tw;
                forward(tx, tw, tb);
                forward(tx, tw, tb);
                assertTrue(kept.packs.holds(PackedCache.FORWARD));
            }
            assertFalse(kept.packs.holds(PackedCache.FORWARD), "copy kept after close");
            // A new tensor over other values never sees the closed one's copy.
            float[] w2 = randn(OUT * IN);
            try (Tensor tw2 = backend.tensor(w2, OUT, IN); Tensor ref = backend.tensor(w2, OUT, IN)) {
                assertNull(((CpuTensor) tw2).packs.lookup(PackedCache.FORWARD,
                        new PackedGemm(new WorkerPool(1), Tuning.BLOCKING).packedSize(OUT, IN)));
                float[] expected = forward(tx, ref, tb);
                assertArrayEquals(expected, forward(tx, tw2, tb));
                assertArrayEquals(expected, forward(tx, tw2, tb));
            }
        }
    }

    private float[] forward(Tensor tx, Tensor tw, Tensor tb) {
        try (Tensor y = backend.linearReluDropout(tx, tw, tb, D)) {
            return y.toArray();
        }
    }

    private float[][] backward(Tensor tdy, Tensor tx, Tensor tw, Tensor tb) {
        try (Tensor y = backend.linearReluDropout(tx, tw, tb, D);
             LinearGrads g = backend.linearReluDropoutBackward(tdy, tx, tw, y, D)) {
            return new float[][] {g.dx().toArray(), g.dw().toArray(), g.db().toArray()};
        }
    }

    private static int firstNonZero(float[] a) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] != 0f) {
                return i;
            }
        }
        throw new AssertionError("all zero");
    }

    private float[] randn(int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
