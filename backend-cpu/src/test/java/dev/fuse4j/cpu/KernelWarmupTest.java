package dev.fuse4j.cpu;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link KernelWarmup} ends on its own, and only calls large enough to gain wait for it. */
class KernelWarmupTest {

    @Test
    void aLargeCallWaitsUntilTheWarmupHasRun() {
        KernelWarmup w = KernelWarmup.start(Tuning.BLOCKING);
        // The warm-up stops itself after 10 s at the latest, however slowly the machine compiles.
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> w.awaitBefore(1e12));
        assertTrue(w.isDone(), "the call went ahead of the warm-up");
    }

    @Test
    void smallCallsAndBackendsWithoutWarmupNeverWait() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            KernelWarmup.start(Tuning.BLOCKING).awaitBefore(1e6);
            KernelWarmup.none().awaitBefore(1e12);
        });
    }
}
