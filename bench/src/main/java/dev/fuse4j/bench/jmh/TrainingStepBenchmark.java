package dev.fuse4j.bench.jmh;

import dev.fuse4j.Backend;
import dev.fuse4j.Tensor;
import dev.fuse4j.bench.train.TrainCommand;
import dev.fuse4j.nn.Optimizer;
import dev.fuse4j.nn.Sequential;
import dev.fuse4j.nn.Training;
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
import java.util.stream.IntStream;

/**
 * One full training step of the model {@code ./fuse4j train} builds by default ({@link TrainingStepSetup}) on a
 * backend: the batch copied in, forward, softmax cross-entropy, backward and the Adam step, exactly as
 * {@link Training#trainEpoch} runs each batch. The primary score is steps per second, the secondary
 * {@code examples} score examples per second. With the {@code djl} profile {@code PyTorchTrainingStepBenchmark}
 * runs the same step in PyTorch in the same run ({@code ./fuse4j bench TrainingStepBenchmark} matches both).
 *
 * <p>Every tensor a step makes is closed by the step: the count of live tensors is checked after each iteration
 * and after the trial, and a leak fails the trial.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xms3g", "-Xmx3g", "-XX:+AlwaysPreTouch"})
public class TrainingStepBenchmark {

    @Param({"cpu"})
    public String backend;

    TrainingStepSetup setup;
    Sequential model;
    Optimizer optimizer;
    private int[] order;
    private long liveBefore;
    private long liveBetweenSteps;

    @Setup(Level.Trial)
    public void setUp() {
        liveBefore = Tensor.liveCount();
        Backend be = TrialBackend.open(backend);
        setup = new TrainingStepSetup();
        model = TrainCommand.model(be, setup.options, TrainingStepSetup.FEATURES, TrainingStepSetup.CLASSES,
                setup.options.dropout());
        optimizer = TrainCommand.optimizer(setup.options, model);
        order = IntStream.range(0, setup.batch()).toArray();
        // One step first, so that the optimizer's state and the model's buffers exist before the count is taken.
        step();
        liveBetweenSteps = Tensor.liveCount();
    }

    /** One training step on the batch; returns its loss so that nothing of it can be dropped as dead code. */
    double step() {
        return Training.trainEpoch(model, optimizer, setup.images, setup.labels, order, setup.batch(), null).loss();
    }

    @Benchmark
    public double trainingStep(ExampleCounter work) {
        double loss = step();
        work.examples += setup.batch();
        return loss;
    }

    /** Fails the trial when a step left tensors open. */
    @TearDown(Level.Iteration)
    public void checkNothingLeaked() {
        long live = Tensor.liveCount();
        if (live != liveBetweenSteps) {
            throw new IllegalStateException((live - liveBetweenSteps) + " tensors were left open by the training "
                    + "steps of this iteration (" + live + " live, " + liveBetweenSteps + " after the first step)");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        optimizer.close();
        model.close();
        long live = Tensor.liveCount();
        if (live != liveBefore) {
            throw new IllegalStateException((live - liveBefore) + " tensors of the model or optimizer were not "
                    + "closed with them");
        }
    }
}
