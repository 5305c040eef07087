package dev.fuse4j.opencl;

import dev.fuse4j.Activation;
import dev.fuse4j.DeviceMemoryException;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.Tensor;
import dev.fuse4j.contract.Required;
import dev.fuse4j.reference.Expected;
import dev.fuse4j.reference.Reference;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A device of the first OpenCL device (PoCL in CI) with a 64 MiB memory limit, as {@code fuse4j.opencl.memoryLimit}
 * sets it: filled until it refuses, then made to work again; and its split-K scratch buffers given back when an
 * allocation needs their room. Each test has a device of its own, so that nothing else holds its memory.
 */
class OpenClMemoryLimitTest {
    private static final long LIMIT = 64L << 20;
    private static final int ROWS = 1024, COLS = 2048; // 8 MiB of floats

    private static ClDevice limitedDevice() {
        ClDiscovery d = ClDiscovery.run();
        if (d.unavailableReason() != null) {
            Required.missing("opencl", d.unavailableReason());
        }
        ClDeviceInfo info = d.devices().get(0);
        return new ClDevice(info, ClMemoryBudget.of(info, "64m", () -> {
            throw new AssertionError("a set limit never reads the host's memory");
        }));
    }

    @Test
    void fillsUntilRefusedThenKeepsItsTensorsAndComputesRightAnswers() {
        ClDevice dev = limitedDevice();
        OpenClBackend b = new OpenClBackend("opencl:0 limited to 64 MiB", dev);
        List<Tensor> held = new ArrayList<>();
        try {
            DeviceMemoryException refused = null;
            for (int i = 0; i < 100 && refused == null; i++) {
                try {
                    held.add(b.zeros(ROWS, COLS));
                } catch (DeviceMemoryException e) {
                    refused = e;
                }
            }
            assertTrue(refused != null, "100 tensors of 8 MiB fit a 64 MiB limit");
            assertEquals(8, held.size(), "8 tensors of 8 MiB fill 64 MiB");
            assertEquals(4L * ROWS * COLS, refused.requestedBytes());
            assertEquals(LIMIT, refused.inUseBytes());
            assertEquals(0, refused.availableBytes());
            String m = refused.getMessage();
            for (String s : new String[] {dev.info.name(), "8388608 bytes", "67108864 bytes (64.0 MiB) in use",
                    "0 bytes available", "fuse4j.opencl.memoryLimit=64m"}) {
                assertTrue(m.contains(s), "message '" + m + "' should contain '" + s + "'");
            }
            assertEquals(LIMIT, dev.memory().inUseBytes(), "a refusal holds nothing");

            float[] ones = new float[ROWS * COLS];
            java.util.Arrays.fill(ones, 1f);
            held.get(7).copyFrom(ones);
            assertArrayEquals(ones, held.get(7).toArray(), "a tensor made before the refusal is still usable");
            for (int i = 0; i < 4; i++) {
                held.remove(0).close();
            }
            assertEquals(LIMIT / 2, dev.memory().inUseBytes(), "closing gives the memory back");
            checkForward(b, 64, 300, 50, Dropout.train(0.5f, 5, 6));
        } finally {
            held.forEach(Tensor::close);
        }
        assertEquals(0, dev.memory().inUseBytes());
    }

    @Test
    void scratchBuffersAreGivenBackWhenAnAllocationNeedsTheirRoom() {
        ClDevice dev = limitedDevice();
        OpenClBackend b = new OpenClBackend("opencl:0 limited to 64 MiB", dev);
        float[][] first = tallBackward(b);
        long scratch = dev.memory().inUseBytes();
        assertTrue(scratch > 0, "a tall batch's backward splits K into scratch buffers, which stay");
        try (Tensor whole = b.zeros(4096, 4096)) { // the whole 64 MiB: fits only once the scratch is given back
            assertEquals(LIMIT, dev.memory().inUseBytes());
            assertEquals(0f, whole.toArray()[4096 * 4096 - 1]);
        }
        assertEquals(0, dev.memory().inUseBytes(), "the scratch buffers were given back");
        float[][] again = tallBackward(b);
        for (int i = 0; i < first.length; i++) {
            assertArrayEquals(first[i], again[i], "gradient " + i + " with the scratch allocated anew");
        }
        assertThrows(DeviceMemoryException.class, () -> b.zeros(4096, 4097), "more than the whole limit");
    }

    /** dx, dw and db of a batch whose dw product splits K (see SplitKBackwardTest); every tensor closed after. */
    private static float[][] tallBackward(OpenClBackend b) {
        Random r = new Random(9);
        int n = 5000, in = 4, out = 3;
        Dropout d = Dropout.train(0.5f, 1, 2);
        try (Tensor x = b.tensor(random(r, n * in), n, in); Tensor w = b.tensor(random(r, out * in), out, in);
             Tensor bias = b.tensor(random(r, out), out); Tensor dy = b.tensor(random(r, n * out), n, out);
             Tensor y = b.linear(x, w, bias, Activation.relu(), d, null);
             LinearGrads g = b.linearBackward(dy, x, w, y, null, Activation.relu(), d)) {
            return new float[][] {g.dx().toArray(), g.dw().toArray(), g.db().toArray()};
        }
    }

    private static void checkForward(OpenClBackend b, int n, int in, int out, Dropout d) {
        Random r = new Random(4);
        float[] x = random(r, n * in), w = random(r, out * in), bias = random(r, out);
        float[] y;
        try (Tensor tx = b.tensor(x, n, in); Tensor tw = b.tensor(w, out, in); Tensor tb = b.tensor(bias, out);
             Tensor ty = b.linear(tx, tw, tb, Activation.relu(), d, null)) {
            y = ty.toArray();
        }
        Expected want = Reference.forward(x, w, bias, n, in, out, Activation.relu(), d).y();
        int e = want.firstViolation(y);
        assertTrue(e < 0, () -> "y[" + e / out + "][" + e % out + "] = " + y[e] + " but float64 gives "
                + want.value()[e]);
    }

    private static float[] random(Random r, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = r.nextFloat() * 2 - 1;
        }
        return a;
    }
}
