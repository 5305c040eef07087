package dev.fuse4j.bench.compare;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.stream.Collectors;

/**
 * The machine's measured FP32 peak: independent FMA chains in Vector API registers, one platform thread per core,
 * first a warm-up so the loop runs compiled, then a timed window. The fraction of it a CPU row reaches is printed
 * beside its GFLOP/s; measuring it rather than quoting a data sheet keeps the fraction honest on shared machines.
 */
final class MachinePeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** FMA steps per burst: long enough that the clock is read rarely, short enough to stop on time. */
    private static final int BURST = 4096;
    /** Independent chains, as many as the GEMM microkernel keeps: enough to hide the FMA latency on two pipes. */
    private static final int CHAINS = 12;

    /**
     * The result and how it was measured. {@code samples} are the separate measurements (at the start and the end of
     * a run); the peak is the best of them, since anything else running, or a host that shares a core between the
     * virtual CPUs, can only make the loop slower.
     */
    record Peak(double gflops, List<Double> samples, int threads, int lanes, double seconds) {
        Peak {
            samples = List.copyOf(samples);
        }

        /** The best of several measurements. */
        static Peak best(Peak... measured) {
            List<Double> all = new ArrayList<>();
            Peak best = measured[0];
            for (Peak p : measured) {
                all.addAll(p.samples());
                best = p.gflops() > best.gflops() ? p : best;
            }
            return new Peak(best.gflops(), all, best.threads(), best.lanes(), best.seconds());
        }

        String describe() {
            String spread = samples.size() < 2 ? "" : " (best of " + samples.stream()
                    .map(v -> String.format(Locale.ROOT, "%.0f", v)).collect(Collectors.joining(", ")) + ")";
            return String.format(Locale.ROOT, "%.0f GFLOP/s%s measured by an FMA loop on %d threads, %d-bit "
                    + "vectors, %d chains, %.1f s each", gflops, spread, threads, lanes * 32, CHAINS, seconds);
        }
    }

    private MachinePeak() {
    }

    /** Warms up for {@code warmSeconds}, then measures for {@code seconds} on every available processor. */
    static Peak measure(double warmSeconds, double seconds) {
        int threads = Runtime.getRuntime().availableProcessors();
        CyclicBarrier start = new CyclicBarrier(threads);
        double[] flops = new double[threads];
        double[] sink = new double[threads];
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers[t] = Thread.ofPlatform().name("fuse4j-peak-" + t).daemon().start(() -> {
                float[] acc = new float[CHAINS * S.length()];
                long warmEnd = System.nanoTime() + (long) (warmSeconds * 1e9);
                while (System.nanoTime() < warmEnd) {
                    burst(acc);
                }
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException("peak measurement interrupted", e);
                }
                long t0 = System.nanoTime();
                long end = t0 + (long) (seconds * 1e9);
                long bursts = 0;
                while (System.nanoTime() < end) {
                    burst(acc);
                    bursts++;
                }
                double elapsed = (System.nanoTime() - t0) / 1e9;
                flops[id] = bursts * (double) BURST * CHAINS * 2 * S.length() / elapsed;
                sink[id] = acc[0];
            });
        }
        double total = 0;
        for (int t = 0; t < threads; t++) {
            try {
                workers[t].join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while measuring the peak", e);
            }
            // The accumulators are read so the JIT cannot drop the loop as dead code.
            total += Double.isNaN(sink[t]) ? 0 : flops[t];
        }
        return new Peak(total / 1e9, List.of(total / 1e9), threads, S.length(), seconds);
    }

    /**
     * {@value #BURST} steps of twelve independent FMA chains. A method of its own so the JIT compiles it whole
     * rather than as an on-stack replacement of the caller's loop.
     */
    private static void burst(float[] acc) {
        int l = S.length();
        FloatVector a = FloatVector.broadcast(S, 0.999f);
        FloatVector b = FloatVector.broadcast(S, 1e-3f);
        FloatVector c0 = FloatVector.fromArray(S, acc, 0), c1 = FloatVector.fromArray(S, acc, l);
        FloatVector c2 = FloatVector.fromArray(S, acc, 2 * l), c3 = FloatVector.fromArray(S, acc, 3 * l);
        FloatVector c4 = FloatVector.fromArray(S, acc, 4 * l), c5 = FloatVector.fromArray(S, acc, 5 * l);
        FloatVector c6 = FloatVector.fromArray(S, acc, 6 * l), c7 = FloatVector.fromArray(S, acc, 7 * l);
        FloatVector c8 = FloatVector.fromArray(S, acc, 8 * l), c9 = FloatVector.fromArray(S, acc, 9 * l);
        FloatVector c10 = FloatVector.fromArray(S, acc, 10 * l), c11 = FloatVector.fromArray(S, acc, 11 * l);
        for (int i = 0; i < BURST; i++) {
            c0 = c0.fma(a, b);
            c1 = c1.fma(a, b);
            c2 = c2.fma(a, b);
            c3 = c3.fma(a, b);
            c4 = c4.fma(a, b);
            c5 = c5.fma(a, b);
            c6 = c6.fma(a, b);
            c7 = c7.fma(a, b);
            c8 = c8.fma(a, b);
            c9 = c9.fma(a, b);
            c10 = c10.fma(a, b);
            c11 = c11.fma(a, b);
        }
        c0.intoArray(acc, 0);
        c1.intoArray(acc, l);
        c2.intoArray(acc, 2 * l);
        c3.intoArray(acc, 3 * l);
        c4.intoArray(acc, 4 * l);
        c5.intoArray(acc, 5 * l);
        c6.intoArray(acc, 6 * l);
        c7.intoArray(acc, 7 * l);
        c8.intoArray(acc, 8 * l);
        c9.intoArray(acc, 9 * l);
        c10.intoArray(acc, 10 * l);
        c11.intoArray(acc, 11 * l);
    }
}
