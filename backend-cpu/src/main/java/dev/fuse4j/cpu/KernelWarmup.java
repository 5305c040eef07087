package dev.fuse4j.cpu;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.spi.LinearShape;

import java.util.Random;
import java.util.concurrent.CountDownLatch;

/**
 * Gets the fused layer's hot code compiled by C2 before the first real calls need it. Until then Vector API code runs
 * in the interpreter or C1, where every vector operation allocates a box, so a first large forward is many times
 * slower than the compiled one (docs/performance.md). At open a daemon thread runs small ReLU-and-dropout forwards
 * and backwards (with and without dx; whole tiles; K over two blocks, like the large calls it stands in for, so C2
 * compiles from the same profile) on private arrays until their time stops improving: the same methods, so the
 * compiled code serves every later call.
 *
 * <p>A call too large to run well before that ({@link #awaitBefore}) waits for the warm-up rather than run beside it
 * in the interpreter: on a machine with few cores the two would share the cores the compiler needs. Smaller calls go
 * ahead. The warm-up runs on a one-thread pool of its own and makes no tensors. {@code -D}{@value #PROPERTY}
 * {@code =false} turns it off.
 */
final class KernelWarmup {
    static final String PROPERTY = "fuse4j.cpu.warmup";
    private static final System.Logger LOG = System.getLogger(KernelWarmup.class.getName());
    /** Passes without a new best time after which the code is taken as compiled. */
    private static final int SETTLED_AFTER = 40;
    private static final long MAX_NANOS = 10_000_000_000L;
    /** Calls of at least this many flops wait for the warm-up: about half a second of interpreted Vector API code. */
    private static final double WAIT_FLOPS = 1e8;

    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile boolean done;

    private KernelWarmup() {
    }

    /** A warm-up that has nothing to do: nobody waits for it. */
    static KernelWarmup none() {
        KernelWarmup w = new KernelWarmup();
        w.finish();
        return w;
    }

    /** Starts the warm-up for backends with {@code blocking}, unless the property turns it off. */
    static KernelWarmup start(Tuning.Blocking blocking) {
        if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim())) {
            return none();
        }
        KernelWarmup w = new KernelWarmup();
        Thread t = new Thread(() -> {
            try {
                run(blocking);
            } finally {
                w.finish();
            }
        }, "fuse4j-cpu-warmup");
        t.setDaemon(true);
        t.start();
        return w;
    }

    /** Waits for the warm-up to finish when a call of {@code flops} would otherwise start before it. */
    void awaitBefore(double flops) {
        if (done || flops < WAIT_FLOPS) {
            return;
        }
        // The wait only saves time: an interrupt ends nothing and is kept for the caller.
        WorkerPool.awaitUninterruptibly(finished);
    }

    /** Whether the warm-up has ended (or never started). */
    boolean isDone() {
        return done;
    }

    private void finish() {
        done = true;
        finished.countDown();
    }

    private static void run(Tuning.Blocking blocking) {
        VectorCpuBackend backend = new VectorCpuBackend("cpu-warmup", new WorkerPool(1), blocking, none());
        int nr = blocking.kernel().vectors() * Tuning.L;
        LinearShape s = new LinearShape(8 * blocking.kernel().rows(), 2 * blocking.kc(), 4 * nr);
        Random r = new Random(1);
        float[] x = values(r, s.n() * s.in()), w = values(r, s.out() * s.in()), b = values(r, s.out());
        float[] dy = values(r, s.n() * s.out());
        float[] y = new float[s.n() * s.out()], dx = new float[s.n() * s.in()], dw = new float[s.out() * s.in()];
        float[] db = new float[s.out()];
        float[] wForward = backend.packWeights(s, w, true);
        float[] wBackward = backend.packWeights(s, w, false);
        Activation relu = Activation.relu();
        long start = System.nanoTime();
        long best = Long.MAX_VALUE;
        int passes = 0;
        int sinceBest = 0;
        while (sinceBest < SETTLED_AFTER && System.nanoTime() - start < MAX_NANOS) {
            long t0 = System.nanoTime();
            Dropout d = Dropout.train(0.5f, passes, passes);
            backend.forward(s, x, wForward, b, relu, Dropout.eval(), y, null);
            backend.forward(s, x, wForward, b, relu, d, y, null);
            backend.backward(s, dy, x, wBackward, y, null, relu, d, dx, dw, db);
            backend.backward(s, dy, x, null, y, null, relu, d, null, dw, db);
            long took = System.nanoTime() - t0;
            sinceBest = took < best ? 0 : sinceBest + 1;
            best = Math.min(best, took);
            passes++;
        }
        LOG.log(System.Logger.Level.DEBUG, "cpu: warm-up ran {0} passes in {1} ms", passes,
                (System.nanoTime() - start) / 1_000_000);
    }

    private static float[] values(Random r, int count) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
