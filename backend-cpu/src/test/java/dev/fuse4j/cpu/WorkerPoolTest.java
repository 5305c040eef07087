package dev.fuse4j.cpu;

import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How {@link WorkerPool} shares its threads: all of them for a lone call, none for a call that finds them busy. */
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
