package dev.fuse4j.bench.compare;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import dev.fuse4j.bench.peers.LibraryGemm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The machine's measured FP32 peak: the best of an FMA loop in Vector API registers and of every peer library's own
 * matrix product ({@link LibraryGemm}), each at one thread and at every available processor. The loop alone can
 * fall short of what a tuned SGEMM reaches on the same cores, which would flatter every "% peak"; taking the
 * maximum keeps the fraction of the peak a row reaches at or below 100% of what the machine demonstrably does.
 */
final class MachinePeak {
    private static final System.Logger LOG = System.getLogger(MachinePeak.class.getName());
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** FMA steps per burst: long enough that the clock is read rarely, short enough to stop on time. */
    private static final int BURST = 4096;
    /**
     * Independent chains, as many as the GEMM microkernel keeps: enough to hide the FMA latency on two pipes (4
     * cycles × 2 needs 8), and with the two constants 14 registers, which fit the 16 ymm registers C2 has under
     * {@code -XX:UseAVX=2} as well as the 32 of AVX-512, so the loop never spills.
     */
    private static final int CHAINS = 12;
    /** The side of the square library GEMM: large enough that the libraries run at their best. */
    static final int GEMM_SIZE = 2048;
    /** The side used when the measuring window is under {@link #FULL_GEMM_SECONDS}, so a short run stays short. */
    static final int SMALL_GEMM_SIZE = 256;
    static final double FULL_GEMM_SECONDS = 0.5;

    /**
     * One way of reaching the peak at one thread count. {@code samples} are its separate measurements (at the start
     * and the end of a run); its figure is the best of them, since anything else running, or a host that shares a
     * core between virtual CPUs, can only make it slower.
     */
    record Candidate(String method, int threads, List<Double> samples) {
        Candidate {
            if (samples.isEmpty()) {
                throw new IllegalArgumentException(method + " on " + threads + " threads has no measurement");
            }
            samples = List.copyOf(samples);
        }

        double gflops() {
            return samples.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        }

        /** {@code openblas sgemm 2048³ on 2 threads}. */
        String label() {
            return method + " on " + threads + (threads == 1 ? " thread" : " threads");
        }

        /** {@code  (best of 225, 229)} when there are several samples, else nothing. */
        private String spread() {
            return samples.size() < 2 ? "" : " (best of " + samples.stream().map(MachinePeak::gflopText)
                    .collect(Collectors.joining(", ")) + ")";
        }
    }

    /** Every candidate measured; the peak is the best of them, and says which one it is. */
    record Peak(List<Candidate> candidates) {
        Peak {
            if (candidates.isEmpty()) {
                throw new IllegalArgumentException("a peak needs at least one measurement");
            }
            candidates = List.copyOf(candidates);
        }

        /** The candidate that set the peak: the highest figure, the first one listed on a tie. */
        Candidate best() {
            Candidate best = candidates.get(0);
            for (Candidate c : candidates) {
                best = c.gflops() > best.gflops() ? c : best;
            }
            return best;
        }

        double gflops() {
            return best().gflops();
        }

        /**
         * Several runs' measurements as one: the samples of a method at a thread count are put together, in the
         * order the candidates were first met.
         */
        static Peak best(Peak... measured) {
            Map<String, Candidate> merged = new LinkedHashMap<>();
            for (Peak p : measured) {
                for (Candidate c : p.candidates()) {
                    merged.merge(c.label(), c, (a, b) -> new Candidate(a.method(), a.threads(),
                            Stream.concat(a.samples().stream(), b.samples().stream()).toList()));
                }
            }
            return new Peak(new ArrayList<>(merged.values()));
        }

        /** {@code 229 GFLOP/s = openblas sgemm 2048³ on 2 threads; also measured: FMA loop (…) on 2 threads 205, …}. */
        String describe() {
            Candidate best = best();
            String others = candidates.stream().filter(c -> c != best)
                    .map(c -> c.label() + " " + gflopText(c.gflops()) + c.spread()).collect(Collectors.joining(", "));
            return gflopText(best.gflops()) + " GFLOP/s = " + best.label() + best.spread()
                    + (others.isEmpty() ? "" : "; also measured (GFLOP/s): " + others);
        }
    }

    private MachinePeak() {
    }

    /** The GEMM side for a measuring window of {@code seconds}. */
    static int gemmSize(double seconds) {
        return seconds >= FULL_GEMM_SECONDS ? GEMM_SIZE : SMALL_GEMM_SIZE;
    }

    /**
     * The FMA loop and each library's GEMM ({@link #gemmSize} for the window), each at one thread and at every
     * available processor: the loop after {@code warmSeconds} of warm-up, each GEMM after one untimed call, each
     * timed for {@code seconds}. A GEMM that throws is left out with a warning; the loop always counts.
     */
    static Peak measure(double warmSeconds, double seconds, List<LibraryGemm> gemms) {
        List<Integer> threadCounts = threadCounts(Runtime.getRuntime().availableProcessors());
        List<Candidate> out = new ArrayList<>();
        String loop = String.format(Locale.ROOT, "FMA loop (%d-bit vectors, %d chains)", S.length() * 32, CHAINS);
        for (int t : threadCounts) {
            out.add(new Candidate(loop, t, List.of(fmaLoop(t, warmSeconds, seconds))));
        }
        int size = gemmSize(seconds);
        for (LibraryGemm g : gemms) {
            for (int t : threadCounts) {
                try {
                    out.add(new Candidate(g.label() + " " + size + "³", t, List.of(gemm(g, size, t, seconds))));
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, g.label() + " on " + t + " threads could not be timed for "
                            + "the peak and is left out: " + e);
                }
            }
        }
        return new Peak(out);
    }

    /** One thread, and every processor when there are more. */
    static List<Integer> threadCounts(int processors) {
        return processors > 1 ? List.of(1, processors) : List.of(1);
    }

    /**
     * GFLOP/s of the fastest of the timed calls ({@code 2·size³} flops each): one untimed call, then calls until
     * {@code seconds} have passed, at least two of them.
     */
    static double gemm(LibraryGemm g, int size, int threads, double seconds) {
        try (LibraryGemm.Product product = g.prepare(size, threads)) {
            product.run();
            long end = System.nanoTime() + (long) (seconds * 1e9);
            long best = Long.MAX_VALUE;
            for (int calls = 0; calls < 2 || System.nanoTime() < end; calls++) {
                long t0 = System.nanoTime();
                product.run();
                best = Math.min(best, Math.max(1, System.nanoTime() - t0));
            }
            return 2.0 * size * size * size / best;
        }
    }

    /** The loop on {@code threads} platform threads started together; GFLOP/s summed over them. */
    private static double fmaLoop(int threads, double warmSeconds, double seconds) {
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
        return total / 1e9;
    }

    private static String gflopText(double gflops) {
        return String.format(Locale.ROOT, "%.0f", gflops);
    }

    /**
     * {@value #BURST} steps of twelve independent FMA chains, each adding {@code a·b} to its accumulator as the GEMM
     * kernels do: C2 compiles that to one {@code vfmadd231ps} per chain. The form {@code c·a + b} needed a register
     * copy per FMA and spilled under {@code -XX:UseAVX=2}, and reported 98 GFLOP/s on one thread where this form and
     * C both reach 113 (docs/performance.md, "Twelve accumulators in sixteen registers"). A method of its own so the
     * JIT compiles it whole rather than as an on-stack replacement of the caller's loop.
     */
    private static void burst(float[] acc) {
        int l = S.length();
        FloatVector a = FloatVector.broadcast(S, 0.999f);
        FloatVector b = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = FloatVector.fromArray(S, acc, 0), c1 = FloatVector.fromArray(S, acc, l);
        FloatVector c2 = FloatVector.fromArray(S, acc, 2 * l), c3 = FloatVector.fromArray(S, acc, 3 * l);
        FloatVector c4 = FloatVector.fromArray(S, acc, 4 * l), c5 = FloatVector.fromArray(S, acc, 5 * l);
        FloatVector c6 = FloatVector.fromArray(S, acc, 6 * l), c7 = FloatVector.fromArray(S, acc, 7 * l);
        FloatVector c8 = FloatVector.fromArray(S, acc, 8 * l), c9 = FloatVector.fromArray(S, acc, 9 * l);
        FloatVector c10 = FloatVector.fromArray(S, acc, 10 * l), c11 = FloatVector.fromArray(S, acc, 11 * l);
        for (int i = 0; i < BURST; i++) {
            c0 = a.fma(b, c0);
            c1 = a.fma(b, c1);
            c2 = a.fma(b, c2);
            c3 = a.fma(b, c3);
            c4 = a.fma(b, c4);
            c5 = a.fma(b, c5);
            c6 = a.fma(b, c6);
            c7 = a.fma(b, c7);
            c8 = a.fma(b, c8);
            c9 = a.fma(b, c9);
            c10 = a.fma(b, c10);
            c11 = a.fma(b, c11);
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
