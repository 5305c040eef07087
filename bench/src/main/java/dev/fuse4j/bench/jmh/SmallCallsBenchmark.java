package dev.fuse4j.bench.jmh;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.CrossEntropy;
import dev.fuse4j.Dropout;
import dev.fuse4j.Tensor;
import dev.fuse4j.nn.Adam;
import dev.fuse4j.nn.Optimizer;
import dev.fuse4j.nn.Sequential;
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
 * Work made of many small calls, where a backend that waits for its device after every call pays a round trip
 * each time: a chain of {@code layers} small fused layers, each output the next input and closed as soon as the
 * next call has it, read once at the end; and a training step of the default MLP (784→512→512→10, dropout 0.5,
 * Adam, batch {@code batch}), which reads only its loss. The scores are microseconds per chain and per step.
 *
 * <p>{@code ./fuse4j bench SmallCalls -p backend=opencl}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
public class SmallCallsBenchmark {

    @Param({"opencl"})
    public String backend;

    @Param({"20"})
    public int layers;

    /** Rows of the chain's batch and width of its layers: small, so launch latency rather than arithmetic counts. */
    @Param({"32"})
    public int rows;

    @Param({"64"})
    public int width;

    @Param({"128"})
    public int batch;

    private static final int IMAGE = 784;
    private static final int CLASSES = 10;

    private Backend be;
    private Tensor x;
    private Tensor[] w;
    private Tensor[] b;
    private long step;
    private Sequential model;
    private Optimizer optimizer;
    private float[] images;
    private float[] labels;

    @Setup(Level.Trial)
    public void setUp() {
        be = TrialBackend.open(backend);
        Random r = new Random(42);
        x = be.tensor(gaussian(r, rows * width, 1f), rows, width);
        w = new Tensor[layers];
        b = new Tensor[layers];
        float wScale = (float) Math.sqrt(2.0 / width); // keeps activations of the chain near unit size
        for (int i = 0; i < layers; i++) {
            w[i] = be.tensor(gaussian(r, width * width, wScale), width, width);
            b[i] = be.tensor(gaussian(r, width, 0.1f), width);
        }
        model = Sequential.builder(be, IMAGE, 1).dense(512, Activation.relu(), 0.5f)
                .dense(512, Activation.relu(), 0.5f).linear(CLASSES).build().train();
        optimizer = new Adam(model.parameters(), 1e-3f);
        images = new float[batch * IMAGE];
        for (int i = 0; i < images.length; i++) {
            images[i] = r.nextFloat();
        }
        labels = new float[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = r.nextInt(CLASSES);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        optimizer.close();
        model.close();
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

    /** As {@code Training.trainEpoch} runs a batch: upload, forward, loss (the one read), backward, Adam. */
    @Benchmark
    public float trainingStep() {
        float loss;
        try (Tensor xt = be.tensor(images, batch, IMAGE); Tensor lt = be.tensor(labels, batch)) {
            Tensor logits = model.forward(xt);
            try (CrossEntropy ce = be.softmaxCrossEntropy(logits, lt)) {
                loss = ce.loss();
                model.backward(ce.grad());
            }
            optimizer.step();
        }
        return loss;
    }

    private static float[] gaussian(Random r, int len, float scale) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = (float) r.nextGaussian() * scale;
        }
        return a;
    }
}
