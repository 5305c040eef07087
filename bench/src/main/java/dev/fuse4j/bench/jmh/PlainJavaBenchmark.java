package dev.fuse4j.bench.jmh;

import dev.fuse4j.Dropout;
import dev.fuse4j.bench.peers.LayerInputs;
import dev.fuse4j.bench.peers.PlainJavaPeer;
import dev.fuse4j.bench.peers.PreparedLayer;
import dev.fuse4j.bench.peers.StandardShapes;
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

import java.util.concurrent.TimeUnit;

/**
 * The peer: the same layer written the plain way in Java ({@link PlainJavaPeer}), at the same shapes. Scores as in
 * {@link FusedLayerBenchmark}: calls per second and, secondary, GFLOP/s. On one thread a call at the largest shape is
 * slow, so run that one with few iterations ({@code -wi 1 -i 2}).
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
    private PreparedLayer layer;

    @Setup
    public void setUp() {
        sh = StandardShapes.parse(shape);
        layer = new PlainJavaPeer().prepare(LayerInputs.random(sh, LayerState.INPUT_SEED),
                Dropout.train(0.5f, LayerState.DROPOUT_SEED, 0L));
    }

    @Benchmark
    public void forward(GflopCounter work) {
        // The peer keeps its output in a field, which the JIT cannot drop as dead code.
        layer.forward();
        work.gflop += sh.flops() * 1e-9;
    }
}
