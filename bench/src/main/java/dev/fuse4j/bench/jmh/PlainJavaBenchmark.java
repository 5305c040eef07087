package dev.fuse4j.bench.jmh;

import dev.fuse4j.Dropout;
import dev.fuse4j.bench.StandardShapes;
import dev.fuse4j.bench.peers.PlainLayer;
import dev.fuse4j.spi.LinearShape;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The peer: the same layer written the plain way in Java ({@link PlainLayer}), at the same shapes. Scores as in
 * {@link FusedLayerBenchmark}: calls per second and, secondary, GFLOP/s. One call at 2048x4096x4096 takes about a
 * minute, so run that shape with few iterations ({@code -wi 1 -i 2}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms3g", "-Xmx3g", "-XX:+AlwaysPreTouch"})
public class PlainJavaBenchmark {

    @Param({"256x1024x1024", "1024x1024x1024", "128x784x512", "4096x256x256", "2048x4096x4096"})
    public String shape;

    private LinearShape sh;
    private float[] x;
    private float[] w;
    private float[] b;
    private final Dropout d = Dropout.train(0.5f, 1234L, 0L);

    @Setup
    public void setUp() {
        sh = StandardShapes.parse(shape);
        Random r = new Random(42);
        x = new float[sh.n() * sh.in()];
        w = new float[sh.out() * sh.in()];
        b = new float[sh.out()];
        for (float[] a : new float[][] {x, w, b}) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (r.nextGaussian() * 0.1);
            }
        }
    }

    @Benchmark
    public float[] forward(GflopCounter work) {
        work.gflop += sh.flops() * 1e-9;
        return PlainLayer.forward(x, w, b, sh.n(), sh.in(), sh.out(), d);
    }
}
