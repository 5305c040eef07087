package dev.fuse4j.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * The CPU backend's threads: one pool sized to the machine, shared by every call, so no call creates threads.
 * Calls from several user threads at once share it (tasks interleave; each call waits for its own).
 */
final class WorkerPool {
    private final ForkJoinPool pool;
    private final int threads;

    WorkerPool(int threads) {
        this.threads = threads;
        this.pool = new ForkJoinPool(threads, p -> {
            var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("fuse4j-cpu-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    int threads() {
        return threads;
    }

    /** Runs {@code body} for every task index in [0, tasks) across the pool and waits for all of them. */
    void parallelFor(int tasks, IntConsumer body) {
        if (tasks <= 1 || threads == 1) {
            for (int t = 0; t < tasks; t++) {
                body.accept(t);
            }
            return;
        }
        pool.submit(() -> IntStream.range(0, tasks).parallel().forEach(body)).join();
    }
}
