package dev.fuse4j.cpu;

import dev.fuse4j.Dropout;
import dev.fuse4j.Tensor;
import dev.fuse4j.spi.TensorBase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Arrays of closed tensors reused for outputs ({@link ArrayRecycler}): an output gets a closed tensor's array, while
 * zeros are always zero and an open tensor's array is never handed out.
 */
class ArrayRecyclerTest {
    private static final int ROWS = 64;
    private static final int COLS = 128;

    private final VectorCpuBackend backend =
            new VectorCpuBackend("cpu-test", new WorkerPool(2), Tuning.BLOCKING, KernelWarmup.none());
    private final long liveBefore = TensorBase.liveCount();

    @AfterEach
    void nothingLeaked() {
        assertEquals(liveBefore, TensorBase.liveCount(), "tensors left open");
    }

    @Test
    void outputsReuseClosedArraysAndZerosStayZero() {
        float[] ones = new float[ROWS * COLS];
        Arrays.fill(ones, 1f);
        float[] old;
        try (Tensor t = backend.tensor(ones, ROWS, COLS)) {
            old = ((CpuTensor) t).data;
        }
        float[] zeroed;
        try (Tensor z = backend.zeros(ROWS, COLS)) {
            zeroed = ((CpuTensor) z).data;
            assertTrue(zeroed != old, "zeros got a recycled array");
            assertArrayEquals(new float[ROWS * COLS], z.toArray());
        }
        try (Tensor open = backend.tensor(ones, ROWS, COLS);
             Tensor m = backend.dropoutMask(ROWS, COLS, Dropout.train(0.5f, 1L, 0L))) {
            float[] got = ((CpuTensor) m).data;
            assertTrue(got == old || got == zeroed, "the output did not reuse a closed tensor's array");
            assertTrue(((CpuTensor) open).data != got);
            try (Tensor m2 = backend.dropoutMask(ROWS, COLS, Dropout.train(0.5f, 1L, 0L))) {
                assertTrue(((CpuTensor) m).data != ((CpuTensor) m2).data, "an open tensor's array handed out");
                assertArrayEquals(m.toArray(), m2.toArray());
            }
        }
    }

    @Test
    void recycledOutputsAreFullyOverwritten() {
        float[] x = new float[ROWS * COLS];
        float[] w = new float[COLS * COLS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 7) - 3;
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 5) * 0.25f - 0.5f;
        }
        try (Tensor tx = backend.tensor(x, ROWS, COLS); Tensor tw = backend.tensor(w, COLS, COLS);
             Tensor tb = backend.zeros(COLS)) {
            float[] first;
            try (Tensor y = backend.linearReluDropout(tx, tw, tb, Dropout.train(0.5f, 3L, 0L))) {
                first = y.toArray();
            }
            // Fill a same-sized array with garbage and close it, so the next output starts from it.
            float[] garbage = new float[ROWS * COLS];
            Arrays.fill(garbage, Float.NaN);
            backend.tensor(garbage, ROWS, COLS).close();
            try (Tensor y = backend.linearReluDropout(tx, tw, tb, Dropout.train(0.5f, 3L, 0L))) {
                assertArrayEquals(first, y.toArray());
            }
        }
    }
}
