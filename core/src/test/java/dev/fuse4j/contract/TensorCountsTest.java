package dev.fuse4j.contract;

import dev.fuse4j.Tensor;
import dev.fuse4j.TensorCounts;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A leak stays a leak once the Cleaner has released it, and counts against the code that made it only. */
class TensorCountsTest {

    @Test
    void closedTensorsAreNotLeaks() {
        TensorCounts before = Tensor.counts();
        ForeignBackend.INSTANCE.zeros(2, 3).close();
        TensorCounts after = Tensor.counts();
        assertEquals(0, after.leakedSince(before));
        assertEquals(1, after.closed() - before.closed());
        assertEquals(before.live(), after.live());
    }

    @Test
    void aTensorReleasedByTheCleanerIsStillALeak() throws InterruptedException {
        TensorCounts before = Tensor.counts();
        leakOne();
        assertEquals(1, Tensor.counts().leakedSince(before), "made and not closed");
        TensorCounts after = Tensor.counts();
        for (int i = 0; i < 200 && after.cleaned() == before.cleaned(); i++) {
            System.gc();
            Thread.sleep(50);
            after = Tensor.counts();
        }
        assertTrue(after.cleaned() > before.cleaned(), "the Cleaner did not release the dropped tensor in 10 s");
        assertEquals(1, after.leakedSince(before), "released by the Cleaner, but never closed");
        TensorCounts later = Tensor.counts();
        assertEquals(0, Tensor.counts().leakedSince(later), "code that runs after the Cleaner is not blamed");
    }

    private static void leakOne() {
        ForeignBackend.INSTANCE.zeros(4, 4);
    }
}
