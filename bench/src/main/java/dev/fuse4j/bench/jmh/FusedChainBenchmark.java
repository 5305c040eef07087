package dev.fuse4j.bench.jmh;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Backends;
import dev.fuse4j.Dropout;
import dev.fuse4j.Tensor;
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

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * A chain of small fused layers, each output the next layer's input and closed as soon as the next call has
 * it, with one read to the host at the end: the pattern of a training step's many small launches. Where every
 * call waits for the device, the chain costs {@code layers} round trips; where calls only queue work, one.
 * The score is microseconds per whole chain.
 *
 * <p>{@code ./fuse4j bench FusedChain -p backend=opencl}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
public class FusedChainBenchmark {

    @Param({"opencl"})
    public String backend;

    @Param({"20"})
    public int layers;

    /** Rows of the batch and width of every layer: small, so launch latency rather than arithmetic dominates. */
    @Param({"32"})
    public int rows;

    @Param({"64"})
    public int width;

    private Backend be;
    private Tensor x;
    private Tensor[] w;
    private Tensor[] b;
    private long step;

    @Setup(Level.Trial)
    public void setUp() {
        try {
            be = Backends.get(backend);
        } catch (BackendUnavailableException e) {
            throw new IllegalStateException("backend " + backend + " cannot run here: " + e.getMessage(), e);
        }
        Random r = new Random(42);
        x = be.tensor(gaussian(r, rows * width, 1f), rows, width);
        w = new Tensor[layers];
        b = new Tensor[layers];
        float wScale = (float) Math.sqrt(2.0 / width); // keeps activations of the chain near unit size
        for (int i = 0; i < layers; i++) {
            w[i] = be.tensor(gaussian(r, width * width, wScale), width, width);
            b[i] = be.tensor(gaussian(r, width, 0.1f), width);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (int i = 0; i < layers; i++) {
            w[i].close();
            b[i].close();
        }
        x.close();
    }

    @Benchmark
    public float[] chain() {
        Dropout d = Dropout.train(0.1f, 7L, step++);
        Tensor in = x;
        for (int i = 0; i < layers; i++) {
            Tensor out = be.linear(in, w[i], b[i], Activation.relu(), d, null);
            if (in != x) {
                in.close();
            }
            in = out;
        }
        try (Tensor last = in) {
            return last.toArray();
        }
    }

    private static float[] gaussian(Random r, int len, float scale) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = (float) r.nextGaussian() * scale;
        }
        return a;
    }
}
