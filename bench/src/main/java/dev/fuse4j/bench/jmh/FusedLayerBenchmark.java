package dev.fuse4j.bench.jmh;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The fused layer on a backend, forward and backward, at the standard CPU shapes. The primary score is calls
 * per second; the secondary {@code gflop} score is GFLOP/s ({@code 2·n·in·out} per forward, twice that per
 * backward, see {@link GflopCounter}).
 *
 * <p>{@code ./fuse4j bench FusedLayer -p backend=opencl} runs it on another backend; a backend that cannot run here
 * fails its trials with the reason, and the other benchmarks go on.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// A fixed, pre-touched heap: with a growing heap the page faults of fresh eden space after each resize slow whole
// iterations down (the cores wait in the kernel), which is the collector's cost, not the layer's.
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xms3g", "-Xmx3g", "-XX:+AlwaysPreTouch"})
public class FusedLayerBenchmark {

    @Param({"cpu"})
    public String backend;

    @Param({"256x1024x1024", "1024x1024x1024", "128x784x512", "4096x256x256", "2048x4096x4096"})
    public String shape;

    @Param({"0.5"})
    public float p;

    private LayerState s;

    @Setup(Level.Trial)
    public void setUp() {
        s = new LayerState(backend, shape, p);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        s.close();
    }

    @Benchmark
    public void forward(GflopCounter work) {
        // The call writes device (or heap) memory through the backend, which the JIT cannot drop as dead code.
        s.layer.forward();
        work.gflop += s.shape.flops() * 1e-9;
    }

    @Benchmark
    public void backward(GflopCounter work) {
        s.layer.backward();
        work.gflop += 2 * s.shape.flops() * 1e-9;
    }
}
