package dev.fuse4j.bench.jmh;

import dev.fuse4j.Backend;
import dev.fuse4j.Dropout;
import dev.fuse4j.bench.peers.BackendLayer;
import dev.fuse4j.bench.peers.LayerInputs;
import dev.fuse4j.bench.peers.StandardShapes;
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
 * What a short program pays before the fused layer runs at full speed: {@code firstCalls} opens the backend in a
 * fresh JVM and makes {@code calls} forwards, timed together from the open; {@code steadyCalls} times the same calls
 * on a backend that has run for {@code settleSeconds} first. Their ratio is how far the first calls fall below the
 * steady state. Each fork is one sample, so the run has many forks and no JMH warm-up.
 *
 * <p>{@code warmup} sets {@code fuse4j.cpu.warmup}, the cpu backend's background warm-up at open, before the backend
 * opens: {@code ./fuse4j bench FirstCalls} compares the two.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(value = 5, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
public class FirstCallsBenchmark {

    /** The host inputs, made before the clock starts; no backend is opened here. */
    @State(Scope.Benchmark)
    public static class Inputs {
        @Param({"cpu"})
        public String backend;

        @Param({"256x1024x1024"})
        public String shape;

        @Param({"35"})
        public int calls;

        @Param({"true", "false"})
        public String warmup;

        LayerInputs in;

        @Setup(Level.Trial)
        public void setUp() {
            System.setProperty("fuse4j.cpu.warmup", warmup);
            in = LayerInputs.random(StandardShapes.parse(shape), LayerState.INPUT_SEED);
        }

        Backend open() {
            return TrialBackend.open(backend);
        }
    }

    /** A backend and layer that have already run for {@code settleSeconds}. */
    @State(Scope.Benchmark)
    public static class Settled {
        @Param({"10"})
        public int settleSeconds;

        Backend backend;
        BackendLayer layer;

        @Setup(Level.Trial)
        public void setUp(Inputs inputs) {
            backend = inputs.open();
            layer = new BackendLayer(backend, inputs.in, dropout());
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(settleSeconds);
            while (System.nanoTime() < end) {
                layer.forward();
            }
            backend.synchronize();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            layer.close();
        }
    }

    private static Dropout dropout() {
        return Dropout.train(0.5f, LayerState.DROPOUT_SEED, 0L);
    }

    @Benchmark
    public void firstCalls(Inputs inputs) {
        Backend backend = inputs.open();
        try (BackendLayer layer = new BackendLayer(backend, inputs.in, dropout())) {
            runCalls(backend, layer, inputs.calls);
        }
    }

    @Benchmark
    public void steadyCalls(Inputs inputs, Settled settled) {
        runCalls(settled.backend, settled.layer, inputs.calls);
    }

    private static void runCalls(Backend backend, BackendLayer layer, int calls) {
        for (int i = 0; i < calls; i++) {
            layer.forward();
        }
        backend.synchronize();
    }
}
