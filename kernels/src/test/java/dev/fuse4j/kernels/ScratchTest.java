package dev.fuse4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Scratch buffers grow, go back under memory pressure, and keep no released buffer when an allocation fails. */
class ScratchTest {

    private final List<String> released = new ArrayList<>();
    private int made;
    private boolean refuse;

    private final Scratch<String> scratch = new Scratch<>(floats -> {
        if (refuse) {
            throw new IllegalStateException("no room for " + floats);
        }
        return "buffer " + (++made) + " of " + floats;
    }, released::add);

    @Test
    void growsGeometricallyAndGivesBackOnRequest() {
        assertEquals("buffer 1 of 100", scratch.atLeast(100));
        assertEquals("buffer 1 of 100", scratch.atLeast(80));
        assertEquals("buffer 2 of 150", scratch.atLeast(120));
        assertEquals(List.of("buffer 1 of 100"), released);
        scratch.giveBack();
        scratch.giveBack(); // nothing left to give
        assertEquals(List.of("buffer 1 of 100", "buffer 2 of 150"), released);
        assertEquals("buffer 3 of 10", scratch.atLeast(10), "after giving back, the next call allocates anew");
    }

    @Test
    void aFailedGrowthLeavesNoReleasedBufferBehind() {
        scratch.atLeast(100);
        refuse = true;
        assertThrows(IllegalStateException.class, () -> scratch.atLeast(1000));
        refuse = false;
        assertEquals("buffer 2 of 50", scratch.atLeast(50), "the released buffer must not be handed out again");
    }
}
