package dev.fuse4j.bench.compare;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CaseTimerTest {
    /** A call that sleeps {@code millis}. */
    private static Runnable sleeping(long millis) {
        return () -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
    }

    /** Without a cap, timing goes on until the measurement's budget is spent: many more calls than the old seven. */
    @Test
    void timesUntilTheBudgetIsSpent() {
        CaseTimer timer = new CaseTimer(1, Integer.MAX_VALUE, 1.0);
        long t0 = System.nanoTime();
        Stats s = timer.measure(sleeping(1), 0.4);
        double seconds = (System.nanoTime() - t0) / 1e9;
        // Warm-up takes at most half of the 0.4 s, so about 0.2 s of 1 ms sleeps are timed: more than the old seven
        // even where a loaded machine wakes a sleeper late.
        assertTrue(s.reps() > 7, "timed calls in 0.2 s of 1 ms calls: " + s.reps());
        assertTrue(seconds >= 0.39, "a measurement of budget 0.4 s took " + seconds + " s");
    }

    /** Calls far faster than the budget: the samples grow past their first 64 up to the cap, every one kept. */
    @Test
    void keepsEverySampleUpToTheCap() {
        Stats s = new CaseTimer(0, 1000, 1).measure(() -> { }, 0.3);
        assertEquals(1000, s.reps());
    }

    /** {@code --reps} caps the timed calls. */
    @Test
    void repsCapTheTimedCalls() {
        Stats s = new CaseTimer(1, 5, 10).measure(sleeping(1), 0.4);
        assertEquals(5, s.reps());
    }

    /** A call slower than the whole budget is still timed once. */
    @Test
    void aSlowCallIsTimedOnce() {
        Stats s = new CaseTimer(0, Integer.MAX_VALUE, 10).measure(sleeping(60), 0.05);
        assertEquals(1, s.reps());
    }
}
