package dev.fuse4j.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * The CPU backend's threads: the calling thread plus {@code threads - 1} helpers made once and shared by every call,
 * so no call creates threads. The caller works on its own call's tasks instead of waiting, which hides the
 * helpers' wake-up latency (tens of microseconds in a VM, per phase) and guarantees progress when the helpers are
 * busy with another thread's call; tasks are claimed one at a time, so a core that is interrupted simply claims
 * fewer. Safe for calls from several threads at once: each call has its own task counter.
 */
final class WorkerPool {
    private final int threads;
    private final ExecutorService helpers;

    WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("a worker pool needs at least 1 thread but was given " + threads);
        }
        this.threads = threads;
        AtomicInteger made = new AtomicInteger();
        this.helpers = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "fuse4j-cpu-" + made.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Threads that work on one call: the caller and the helpers. */
    int threads() {
        return threads;
    }

    /** Runs {@code body} for every task index in [0, tasks) across the caller and the helpers, and waits for all. */
    void parallelFor(int tasks, IntConsumer body) {
        if (tasks <= 1 || helpers == null) {
            for (int t = 0; t < tasks; t++) {
                body.accept(t);
            }
            return;
        }
        Job job = new Job(tasks, body);
        for (int h = Math.min(threads - 1, tasks - 1); h > 0; h--) {
            helpers.execute(job::work);
        }
        job.work();
        job.await();
    }

    /** One parallelFor call: a shared task counter, a count of finished tasks, and the first failure. */
    private static final class Job {
        private final int tasks;
        private final IntConsumer body;
        private final AtomicInteger next = new AtomicInteger();
        private final CountDownLatch finished;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(int tasks, IntConsumer body) {
            this.tasks = tasks;
            this.body = body;
            this.finished = new CountDownLatch(tasks);
        }

        void work() {
            for (int t = next.getAndIncrement(); t < tasks; t = next.getAndIncrement()) {
                try {
                    if (failure.get() == null) {
                        body.accept(t);
                    }
                } catch (RuntimeException | Error e) {
                    failure.compareAndSet(null, e);
                } finally {
                    finished.countDown();
                }
            }
        }

        void await() {
            boolean interrupted = false;
            while (true) {
                try {
                    finished.await();
                    break;
                } catch (InterruptedException e) {
                    // The helpers are still writing into the caller's arrays: finish waiting, then re-assert.
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            Throwable f = failure.get();
            if (f instanceof RuntimeException re) {
                throw re;
            }
            if (f instanceof Error err) {
                throw err;
            }
        }
    }
}
