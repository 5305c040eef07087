package dev.fuse4j.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * The CPU backend's threads: the calling thread plus {@code threads - 1} helpers made once, so no call creates
 * threads. The caller works on its own call's tasks instead of waiting, which hides the helpers' wake-up latency
 * (tens of microseconds in a VM, per phase) and guarantees progress when the helpers are busy with another thread's
 * call; tasks are claimed one at a time, so a core that is interrupted simply claims fewer.
 *
 * <p>Every CPU backend in the process shares one pool ({@link #shared()}), sized by {@value #THREADS_PROPERTY}, else
 * {@value #THREADS_ENV}, else the processors this JVM may use. It never runs more than {@code threads} threads on
 * calls at once: a call enlists only helpers whose cores no other call is using, so calls from several threads share
 * the cores rather than each taking all of them. Safe for calls from several threads at once: each call has its own
 * task counter.
 */
final class WorkerPool {
    static final String THREADS_PROPERTY = "fuse4j.cpu.threads";
    static final String THREADS_ENV = "FUSE4J_CPU_THREADS";

    private final int threads;
    private final ExecutorService helpers;
    /** Threads working on calls now: callers inside {@link #parallelFor} and the helpers they enlisted. */
    private final AtomicInteger busy = new AtomicInteger();

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

    private static WorkerPool shared;

    /** The pool every CPU backend of this process uses, made on first use; throws when the thread setting is bad. */
    static synchronized WorkerPool shared() {
        if (shared == null) {
            shared = new WorkerPool(configuredThreads());
        }
        return shared;
    }

    /** The thread count this process's settings give (see {@link #configuredThreads(String, String, int)}). */
    static int configuredThreads() {
        return configuredThreads(System.getProperty(THREADS_PROPERTY), System.getenv(THREADS_ENV),
                Runtime.getRuntime().availableProcessors());
    }

    /**
     * The thread count from the property value, else the environment value, else {@code processors} (the JVM's
     * count, which follows a container's CPU limit).
     */
    static int configuredThreads(String property, String env, int processors) {
        String source = property != null ? THREADS_PROPERTY : THREADS_ENV;
        String value = property != null ? property : env;
        if (value == null || value.isBlank()) {
            return processors;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below with the value
        }
        throw new IllegalArgumentException(source + " is '" + value + "' but must be a whole number of threads, 1 or "
                + "more");
    }

    /** Threads that work on one call at most: the caller and the helpers. */
    int threads() {
        return threads;
    }

    /** Runs {@code body} for every task index in [0, tasks) across the caller and idle helpers, and waits for all. */
    void parallelFor(int tasks, IntConsumer body) {
        if (tasks <= 1 || helpers == null) {
            for (int t = 0; t < tasks; t++) {
                body.accept(t);
            }
            return;
        }
        busy.incrementAndGet();
        try {
            int enlisted = reserveHelpers(Math.min(threads - 1, tasks - 1));
            Job job = new Job(tasks, body);
            for (int h = 0; h < enlisted; h++) {
                helpers.execute(() -> {
                    try {
                        job.work();
                    } finally {
                        busy.decrementAndGet();
                    }
                });
            }
            job.work();
            job.await();
        } finally {
            busy.decrementAndGet();
        }
    }

    /** Claims up to {@code wanted} helpers, as many as leave at most {@link #threads} threads busy. */
    private int reserveHelpers(int wanted) {
        while (true) {
            int now = busy.get();
            int grant = Math.max(0, Math.min(wanted, threads - now));
            if (grant == 0 || busy.compareAndSet(now, now + grant)) {
                return grant;
            }
        }
    }

    /** Waits for {@code latch} to open, through interrupts, and re-asserts an interrupt that came meanwhile. */
    static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
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
            // The helpers are still writing into the caller's arrays: finish waiting even when interrupted.
            awaitUninterruptibly(finished);
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
