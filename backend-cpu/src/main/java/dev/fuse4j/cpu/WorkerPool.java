package dev.fuse4j.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The CPU backend's threads: the calling thread plus {@code threads - 1} helpers made once, so no call creates
 * threads. The caller works on its own call's tasks instead of waiting, which guarantees progress when the helpers
 * are busy with another thread's call; tasks are claimed one at a time, so a core that is interrupted simply claims
 * fewer.
 *
 * <p>Hand-offs spin before they sleep. A helper that finished a call watches for the next one for
 * {@value #HELPER_SPIN_MICROS} µs before it parks, and a caller whose own tasks are done watches the helpers' last
 * tasks for up to {@value #CALLER_SPIN_MICROS} µs before it blocks. On these VMs waking a parked thread took 50 to 200
 * µs (docs/performance.md, "Hand-offs and shrinking row parts"), longer than a small layer's whole product, and a
 * backward makes four hand-offs; a training step's calls follow each other within microseconds, so a spinning helper
 * is nearly always there for the next one. For that, a call returns only once every helper it enlisted is free
 * again ({@link #parallelFor}). A task's exception of any kind reaches the caller once every task has
 * finished, and an interrupt a task leaves on a helper is cleared with the task.
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
    /** How long an idle helper watches for the next call before it parks. */
    static final long HELPER_SPIN_MICROS = 200;
    /** How long a caller whose tasks are done watches the helpers' before it blocks. */
    static final long CALLER_SPIN_MICROS = 2000;

    private final int threads;
    private final Helper[] helpers;
    /** Threads working on calls now: callers inside {@link #parallelFor} and the helpers they enlisted. */
    private final AtomicInteger busy = new AtomicInteger();

    WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("a worker pool needs at least 1 thread but was given " + threads);
        }
        this.threads = threads;
        this.helpers = new Helper[threads - 1];
        for (int h = 0; h < helpers.length; h++) {
            helpers[h] = new Helper("fuse4j-cpu-" + (h + 1));
        }
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

    /** Threads working on calls now (callers and the helpers they hold): for tests. */
    int busyThreads() {
        return busy.get();
    }

    /** Threads that work on one call at most: the caller and the helpers. */
    int threads() {
        return threads;
    }

    /**
     * Runs {@code body} for every task index in [0, tasks) across the caller and idle helpers, and waits for all.
     * It returns with every helper it enlisted free again, so the caller's next call finds them: a helper frees
     * itself as soon as it finds no task left to claim (before it reports its last task done, if it ran any), and one
     * that has not picked the job up by the end is taken back. (Before, a helper gave its place back only after that
     * report, and a caller that went straight on to its next call could find it still counted busy and run that whole
     * call alone: docs/performance.md, "A hand-off race that halved the big products".)
     */
    void parallelFor(int tasks, IntConsumer body) {
        if (tasks <= 1 || helpers.length == 0) {
            for (int t = 0; t < tasks; t++) {
                body.accept(t);
            }
            return;
        }
        // Allocated before any place in busy is taken, so that running out of memory here leaks none.
        Job job = new Job(tasks, body);
        busy.incrementAndGet();
        try {
            int granted = reserveHelpers(Math.min(helpers.length, tasks - 1));
            int handed = 0;
            for (int h = 0; h < helpers.length && handed < granted; h++) {
                if (helpers[h].take(job)) {
                    handed++;
                }
            }
            // A helper frees itself before it gives back its place in busy, so a grant always finds one; if not, the
            // place is returned rather than held by nobody.
            busy.addAndGet(handed - granted);
            job.work(null);
            job.await();
            for (Helper helper : helpers) {
                helper.takeBack(job); // a no-op for a helper this call did not hand the job to
            }
            job.awaitHelpersFree();
            job.rethrow();
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

    /**
     * A helper thread. It is handed one call's {@link Job} at a time ({@link #take}); between calls it spins
     * {@value #HELPER_SPIN_MICROS} µs, then parks until the next hand-off unparks it.
     */
    private final class Helper implements Runnable {
        private final Thread thread;
        /** Set while a call holds this helper, from {@link #take} until the helper is free for another call. */
        private final AtomicBoolean held = new AtomicBoolean();
        /**
         * The job handed over and not yet picked up; the helper and the caller ({@link #takeBack}) race to clear it.
         */
        private final AtomicReference<Job> handed = new AtomicReference<>();
        /** Set just before the helper parks; a hand-off that sees it unparks the thread. */
        private volatile boolean parked;

        Helper(String name) {
            thread = new Thread(this, name);
            thread.setDaemon(true);
            thread.start();
        }

        /** Hands {@code job} to this helper if no call holds it; false if one does. */
        boolean take(Job job) {
            if (!held.compareAndSet(false, true)) {
                return false;
            }
            job.helpersOut.incrementAndGet();
            handed.set(job);
            // Dekker-style with the helper's "parked = true, then read handed": either it sees the job, or this
            // sees it parked (or about to park) and the unpark's permit wakes it.
            if (parked) {
                LockSupport.unpark(thread);
            }
            return true;
        }

        /**
         * Called by {@code job}'s caller once its tasks are all done: frees this helper if it was handed the job and
         * has not picked it up (it was parked and is still waking, say), so that it is not held for a call that is
         * over; otherwise does nothing.
         */
        void takeBack(Job job) {
            if (handed.compareAndSet(job, null)) {
                free(job);
            }
        }

        /**
         * Called by this helper once it has no task of {@code job} left: clears an interrupt a task may have left
         * (kept, it would make every later park return at once and the helper spin for good; it belongs to the task,
         * which has finished) and gives the helper back.
         */
        void finished(Job job) {
            Thread.interrupted();
            free(job);
        }

        /** Gives this helper back to the pool; {@code job}'s caller waits for this ({@link Job#awaitHelpersFree}). */
        private void free(Job job) {
            held.set(false);
            busy.decrementAndGet();
            job.helpersOut.decrementAndGet();
        }

        @Override
        public void run() {
            while (true) {
                // Nothing between the pickup and finished() allocates, so nothing there can fail and leave the
                // helper held with its caller waiting for it.
                next().work(this);
            }
        }

        private Job next() {
            long spinUntil = System.nanoTime() + HELPER_SPIN_MICROS * 1000;
            while (true) {
                Job job = handed.get();
                if (job != null && handed.compareAndSet(job, null)) {
                    return job;
                }
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true;
                if (handed.get() == null) {
                    LockSupport.park(this);
                }
                parked = false;
            }
        }
    }

    /**
     * One parallelFor call: a shared task counter, a count of finished tasks, the first failure, and the helpers
     * handed the job and not yet free. The caller watches the count for {@value #CALLER_SPIN_MICROS} µs before it
     * blocks on it.
     */
    private static final class Job {
        private final int tasks;
        private final IntConsumer body;
        private final AtomicInteger next = new AtomicInteger();
        private final CountDownLatch finished;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        /** Helpers handed this job that have not yet been given back to the pool. */
        final AtomicInteger helpersOut = new AtomicInteger();

        Job(int tasks, IntConsumer body) {
            this.tasks = tasks;
            this.body = body;
            this.finished = new CountDownLatch(tasks);
        }

        /**
         * Claims and runs tasks until none is left. A helper passes itself ({@code helper}; the caller null) and is
         * given back ({@link Helper#finished}) once, as soon as it knows it has no task left, before it counts its last
         * one finished: by the time the caller sees every task finished, each helper that ran one is free for the
         * caller's next call.
         */
        void work(Helper helper) {
            int t = next.getAndIncrement();
            while (t < tasks) {
                try {
                    if (failure.get() == null) {
                        body.accept(t);
                    }
                } catch (Throwable e) { // checked ones too, thrown sneakily: none may end a helper or skip await
                    failure.compareAndSet(null, e);
                }
                int following = next.getAndIncrement();
                if (following >= tasks && helper != null) {
                    helper.finished(this);
                    helper = null;
                }
                finished.countDown();
                t = following;
            }
            if (helper != null) {
                helper.finished(this);
            }
        }

        void await() {
            long spinUntil = System.nanoTime() + CALLER_SPIN_MICROS * 1000;
            while (finished.getCount() > 0 && System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            }
            // The helpers are still writing into the caller's arrays: finish waiting even when interrupted.
            awaitUninterruptibly(finished);
        }

        /**
         * Waits until every helper handed this job is free. By now each has either been taken back or picked the job
         * up, and one that picked it up frees itself as soon as it finds no task left to claim: nanoseconds, unless
         * the system has just descheduled it, when spinning would keep it off a core it may need, so the wait then
         * yields.
         */
        void awaitHelpersFree() {
            for (int spins = 0; helpersOut.get() > 0; spins++) {
                if (spins < 1000) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
        }

        /** Throws the first failure of a task, if any. */
        void rethrow() {
            Throwable f = failure.get();
            if (f instanceof RuntimeException re) {
                throw re;
            }
            if (f instanceof Error err) {
                throw err;
            }
            if (f != null) {
                throw new IllegalStateException("a task of a parallel call threw " + f, f);
            }
        }
    }
}
