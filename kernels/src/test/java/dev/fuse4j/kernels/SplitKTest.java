package dev.fuse4j.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one split-K rule of both GPU backends. */
class SplitKTest {

    @Test
    void fewTilesOverALongKAreSplitIntoWholeSteps() {
        SplitK s = SplitK.plan(4, 132, 65536, 8); // dw of 65536x256->256 on a 132-SM GPU, 128x128 tiles
        assertEquals(SplitK.MAX_SLICES, s.slices(), "about two groups per unit would be 66; at most 64");
        assertEquals(1024, s.chunk());
        SplitK cpu = SplitK.plan(1, 2, 5000, 128); // dw of a 5000-row batch on a 2-unit CPU device
        assertEquals(4, cpu.slices());
        assertEquals(1280, cpu.chunk(), "10 steps of 128");
        for (int k : new int[] {600, 1000, 4097, 65536, 100_000}) {
            for (int step : new int[] {4, 8, 16, 128}) {
                SplitK p = SplitK.plan(1, 80, k, step);
                assertTrue((long) p.slices() * p.chunk() >= k && (long) (p.slices() - 1) * p.chunk() < k,
                        "the slices cover K exactly once: " + p + " for k=" + k);
                if (p.split()) {
                    assertEquals(0, p.chunk() % step, "whole K steps for k=" + k + " step=" + step);
                    assertTrue(p.chunk() >= Math.max(SplitK.MIN_SLICE_K, SplitK.MIN_SLICE_STEPS * step),
                            "slices are long enough: " + p + " for k=" + k + " step=" + step);
                }
            }
        }
    }

    @Test
    void enoughTilesOrAShortKAreNotSplit() {
        assertEquals(new SplitK(1, 4096), SplitK.plan(1024, 132, 4096, 8), "tiles fill the device");
        assertEquals(new SplitK(1, 300), SplitK.plan(4, 132, 300, 8), "K too short to share");
        assertEquals(2, SplitK.plan(4, 132, 600, 8).slices(), "each slice keeps at least 256 of K");
        assertEquals(1, SplitK.plan(1, 2, 1100, 128).slices(), "8 steps of 128 fit once in 1100");
    }
}
