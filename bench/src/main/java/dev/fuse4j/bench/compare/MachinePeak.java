package dev.fuse4j.bench.compare;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.concurrent.atomic.DoubleAdder;
import java.util.stream.IntStream;

/**
 * The machine's measured FP32 peak: independent FMA chains in Vector API registers on every core for a fixed time.
 * The fraction of it a backend reaches is printed beside its GFLOP/s.
 */
final class MachinePeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private MachinePeak() {
    }

    private static final int BURST = 4096;
    private static final int CHAINS = 12;

    static double measureGflops(double seconds) {
        int threads = Runtime.getRuntime().availableProcessors();
        DoubleAdder flops = new DoubleAdder();
        DoubleAdder sink = new DoubleAdder();
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        IntStream.range(0, threads).parallel().forEach(t -> {
            float[] acc = new float[CHAINS * S.length()];
            long bursts = 0;
            while (System.nanoTime() < end) {
                burst(acc);
                bursts++;
            }
            flops.add(bursts * (double) BURST * CHAINS * 2 * S.length());
            sink.add(acc[0]);
        });
        double elapsed = (System.nanoTime() - start) / 1e9;
        return sink.sum() == Double.NEGATIVE_INFINITY ? 0 : flops.sum() / elapsed / 1e9;
    }

    /**
     * {@value #BURST} steps of twelve independent FMA chains, as many as the GEMM microkernel keeps, which hides
     * the FMA latency. A method of its own so the JIT compiles it whole rather than as an on-stack replacement.
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
