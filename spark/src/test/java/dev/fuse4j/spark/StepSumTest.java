package dev.fuse4j.spark;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The driver's sum of a step's slices: slice order, left to right, empty slices skipped. */
class StepSumTest {

    private static SliceResult slice(int k, float... g) {
        return new SliceResult(k, 1, 0.25f * (k + 1), k, g, new long[] {7, 9}, 10L * (k + 1));
    }

    @Test
    void slicesAddLeftToRightInSliceOrder() {
        // In float, (1 + 1e8) − 1e8 is 0 but 1 + (1e8 − 1e8), the sum from the right, is 1.
        StepSum s = StepSum.of(List.of(slice(0, 1f, -0f), slice(1, 1e8f, -0f), slice(2, -1e8f, -0f)), 3);
        assertArrayEquals(new float[] {0f, -0f}, s.gradients(), "(g0 + g1) + g2, and -0 + -0 stays -0");
        assertEquals(0.25 + 0.5 + 0.75, s.loss());
        assertEquals(3, s.correct());
        assertArrayEquals(new long[] {7, 9}, s.offsetsAfter());
        assertEquals(30, s.slowestSliceNanos());
    }

    @Test
    void emptySlicesContributeNothing() {
        StepSum s = StepSum.of(List.of(SliceResult.empty(0), slice(1, 2f), SliceResult.empty(2), slice(3, 3f)), 4);
        assertArrayEquals(new float[] {5f}, s.gradients());
        assertEquals(4, s.correct(), "the correct counts of slices 1 and 3");
    }

    @Test
    void resultsOutOfOrderMissingOrAllEmptyAreRefused() {
        assertEquals("result 0 of a step is slice 1's: results must come in slice order",
                assertThrows(IllegalStateException.class,
                        () -> StepSum.of(List.of(slice(1, 1f), slice(0, 1f)), 2)).getMessage());
        assertEquals("a step of 3 slices returned 2 results",
                assertThrows(IllegalStateException.class,
                        () -> StepSum.of(List.of(slice(0, 1f), slice(1, 1f)), 3)).getMessage());
        assertEquals("every slice of a step was empty",
                assertThrows(IllegalStateException.class,
                        () -> StepSum.of(List.of(SliceResult.empty(0)), 1)).getMessage());
    }
}
