package dev.fuse4j.cpu;

import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How {@link WorkerPool} shares its threads (all of them for a lone call, none for a call that finds them busy) and
 * hands calls over (spinning, then parked helpers; failures).
 */
class WorkerPoolTest {

    @Test
    void aLoneCallRunsOnEveryThreadOfThePool() {
        WorkerPool pool = new WorkerPool(3);
        CountDownLatch allIn = new CountDownLatch(3);
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        pool.parallelFor(6, t -> {
            if (seen.add(Thread.currentThread())) {
                allIn.countDown();
            }
            await(allIn);
        });
        assertEquals(3, seen.size(), "threads that ran tasks");
    }

    @Test
    void aCallThatFindsTheThreadsBusyRunsOnItsCallerAlone() throws InterruptedException {
        // Three threads: a first call of two tasks holds its caller and one helper, so with the second caller running
        // all three are busy, and the idle helper must stay out of the second call.
        WorkerPool pool = new WorkerPool(3);
        CountDownLatch firstRunning = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        Thread first = new Thread(() -> pool.parallelFor(2, t -> {
            firstRunning.countDown();
            await(release);
        }));
        first.start();
        await(firstRunning);
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        AtomicReference<Thread> caller = new AtomicReference<>();
        Thread second = new Thread(() -> {
            caller.set(Thread.currentThread());
            pool.parallelFor(8, t -> {
                seen.add(Thread.currentThread());
                sleep(2);
            });
        });
        second.start();
        second.join(10_000);
        release.countDown();
        first.join(10_000);
        assertEquals(Set.of(caller.get()), seen, "threads that ran the second call's tasks");
    }

    /**
     * A helper that has parked (its spin window long over) still wakes for the next call, and hundreds of thousands
     * of tiny calls in a row, which race every hand-off against the helpers' spinning and parking, all finish.
     */
    @Test
    void helpersWakeFromParkingAndNoHandOffIsLost() {
        WorkerPool pool = new WorkerPool(3);
        for (int round = 0; round < 3; round++) {
            sleep(WorkerPool.HELPER_SPIN_MICROS / 1000 + 20);
            CountDownLatch allIn = new CountDownLatch(3);
            Set<Thread> seen = ConcurrentHashMap.newKeySet();
            pool.parallelFor(3, t -> {
                if (seen.add(Thread.currentThread())) {
                    allIn.countDown();
                }
                await(allIn);
            });
            assertEquals(3, seen.size(), "threads that ran tasks after a pause of round " + round);
        }
        AtomicLong sum = new AtomicLong();
        long end = System.nanoTime() + 2_000_000_000L;
        int calls = 0;
        while (System.nanoTime() < end || calls < 1000) {
            pool.parallelFor(2 + calls % 3, sum::addAndGet);
            calls++;
        }
        long perCall = 0;
        for (int c = 0; c < calls; c++) {
            int tasks = 2 + c % 3;
            perCall += (long) tasks * (tasks - 1) / 2;
        }
        assertEquals(perCall, sum.get(), "task indices summed over " + calls + " calls");
    }

    /** A task's exception reaches the caller after every other task has finished, and the pool stays usable. */
    @Test
    void aFailingTaskIsRethrownAndThePoolGoesOn() {
        WorkerPool pool = new WorkerPool(2);
        AtomicLong ran = new AtomicLong();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.parallelFor(8, t -> {
            if (t == 1) {
                throw new IllegalStateException("task 1 failed");
            }
            ran.incrementAndGet();
        }));
        assertEquals("task 1 failed", e.getMessage());
        assertTrue(ran.get() <= 7, "tasks run besides the failing one: " + ran.get());
        AtomicLong after = new AtomicLong();
        pool.parallelFor(8, t -> after.incrementAndGet());
        assertEquals(8, after.get(), "tasks of the call after the failure");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(10, TimeUnit.SECONDS), "timed out waiting for the pool's threads");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
