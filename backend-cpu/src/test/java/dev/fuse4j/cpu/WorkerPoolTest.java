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
     * of tiny calls in a row, which race every hand-off against the helpers' spinning and parking, all finish with
     * every task run once and every helper still there for a call after them.
     */
    @Test
    void helpersWakeFromParkingAndNoHandOffIsLost() {
        WorkerPool pool = new WorkerPool(3);
        for (int round = 0; round < 3; round++) {
            sleep(WorkerPool.HELPER_SPIN_MICROS / 1000 + 20);
            assertAllThreadsMeet(pool, "after a pause, round " + round);
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
        assertAllThreadsMeet(pool, "after " + calls + " tiny calls");
    }

    /**
     * A call returns with every helper it enlisted free, whether the helper ran tasks or was still waking: the next
     * call from the same thread can have them all. (A helper used to give its place back just after reporting its
     * last task done, and a caller that went straight on could find it still counted busy and run a whole call
     * alone.)
     */
    @Test
    void aCallReturnsWithEveryHelperFree() {
        WorkerPool pool = new WorkerPool(3);
        int calls = 20_000;
        int leftBusy = 0;
        for (int c = 0; c < calls; c++) {
            if (c % 1000 == 999) {
                sleep(WorkerPool.HELPER_SPIN_MICROS / 1000 + 2); // let the helpers park, so some hand-offs wake them
            }
            pool.parallelFor(2 + c % 4, t -> Thread.onSpinWait());
            if (pool.busyThreads() != 0) {
                leftBusy++;
            }
        }
        assertEquals(0, leftBusy, "calls of " + calls + " that returned with a thread still counted busy");
        assertAllThreadsMeet(pool, "after " + calls + " calls");
    }

    /**
     * Calls from several threads at once, which race each other for the helpers and race the helpers' own
     * pick-ups and take-backs, all run every task once, and leave nothing busy and every helper there for a call after
     * them.
     */
    @Test
    void concurrentCallersRunEveryTaskOnceAndLeaveThePoolWhole() throws InterruptedException {
        WorkerPool pool = new WorkerPool(3);
        int callers = 3;
        int calls = 5_000;
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread[] threads = new Thread[callers];
        for (int c = 0; c < callers; c++) {
            int seed = c;
            threads[c] = new Thread(() -> {
                try {
                    for (int call = 0; call < calls; call++) {
                        int tasks = 2 + (call + seed) % 5;
                        AtomicLong sum = new AtomicLong();
                        pool.parallelFor(tasks, t -> {
                            sum.addAndGet(t + 1);
                            if (t % 3 == 0) {
                                Thread.onSpinWait();
                            }
                        });
                        if (sum.get() != (long) tasks * (tasks + 1) / 2) {
                            throw new AssertionError("call " + call + " of " + tasks + " tasks summed " + sum.get());
                        }
                    }
                } catch (Throwable e) {
                    failed.compareAndSet(null, e);
                }
            });
            threads[c].start();
        }
        for (Thread t : threads) {
            t.join(60_000);
            assertTrue(!t.isAlive(), "a caller still running after 60 s");
        }
        if (failed.get() != null) {
            throw new AssertionError("a caller failed", failed.get());
        }
        assertAllThreadsMeet(pool, "after " + callers + " threads made " + calls + " calls each");
    }

    /**
     * A task's exception reaches the caller after every other task has finished, a checked one thrown sneakily
     * too, and no helper is lost: every thread still meets in the next call. An interrupt a task leaves on a helper
     * does not make it spin: it still parks and wakes.
     */
    @Test
    void failuresAndInterruptsInTasksLeaveThePoolWhole() {
        WorkerPool pool = new WorkerPool(3);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.parallelFor(8, t -> {
            if (t == 1) {
                throw new IllegalStateException("task 1 failed");
            }
        }));
        assertEquals("task 1 failed", e.getMessage());
        assertAllThreadsMeet(pool, "after a RuntimeException");
        IllegalStateException wrapped = assertThrows(IllegalStateException.class, () -> pool.parallelFor(8, t -> {
            if (t == 2) {
                throwSneakily(new java.io.IOException("task 2's checked exception"));
            }
        }));
        assertTrue(wrapped.getCause() instanceof java.io.IOException, "cause " + wrapped.getCause());
        assertAllThreadsMeet(pool, "after a checked exception");
        pool.parallelFor(6, t -> Thread.currentThread().interrupt());
        Thread.interrupted(); // the caller's own, set by the tasks it ran
        sleep(WorkerPool.HELPER_SPIN_MICROS / 1000 + 20);
        long cpuBefore = helpersCpuNanos();
        sleep(300);
        long idleCpu = helpersCpuNanos() - cpuBefore;
        assertTrue(idleCpu < 100_000_000L, "the idle helpers used " + idleCpu / 1_000_000 + " ms of CPU in 300 ms");
        assertAllThreadsMeet(pool, "after tasks that interrupted their threads");
        assertEquals(0, pool.busyThreads(), "threads still busy with no call running");
    }

    /** Every thread of {@code pool} runs a task of one call: none is lost or left held. */
    private static void assertAllThreadsMeet(WorkerPool pool, String when) {
        // A call returns with its helpers free (aCallReturnsWithEveryHelperFree), so nothing is busy between calls.
        assertEquals(0, pool.busyThreads(), "threads counted busy with no call running, " + when);
        CountDownLatch allIn = new CountDownLatch(pool.threads());
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        pool.parallelFor(pool.threads(), t -> {
            if (seen.add(Thread.currentThread())) {
                allIn.countDown();
            }
            await(allIn);
        });
        assertEquals(pool.threads(), seen.size(), "threads that ran tasks " + when);
    }

    /**
     * CPU time used so far by every pool helper thread of this JVM ({@code fuse4j-cpu-N}; not the kernel warm-up's
     * {@code fuse4j-cpu-warmup}, which may still be running for a backend an earlier test opened).
     */
    private static long helpersCpuNanos() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().matches("fuse4j-cpu-[0-9]+")) {
                sum += Math.max(0, mx.getThreadCpuTime(t.threadId()));
            }
        }
        return sum;
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void throwSneakily(Throwable t) throws T {
        throw (T) t;
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
