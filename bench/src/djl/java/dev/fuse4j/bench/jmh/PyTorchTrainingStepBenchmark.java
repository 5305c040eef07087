package dev.fuse4j.bench.jmh;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.fuse4j.bench.peers.djl.PyTorchPeer;
import dev.fuse4j.bench.train.TrainCommand;
import dev.fuse4j.bench.train.TrainOptions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

/**
 * The step of {@link TrainingStepBenchmark} in PyTorch on the CPU through DJL, in the same JMH run: the same MLP,
 * batch, synthetic data, softmax cross-entropy, dropout p and Adam (lr, betas, eps), eagerly, as a PyTorch training
 * loop runs it, on as many intra-op threads as the cpu backend has ({@link TrainingStepSetup#cpuThreads()}). Each
 * step's batch and everything made from it live in a manager of their own, closed at the end of the step. Compiled
 * only in the {@code djl} Maven profile.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xms3g", "-Xmx3g", "-XX:+AlwaysPreTouch"})
public class PyTorchTrainingStepBenchmark {

    TrainingStepSetup setup;
    Model model;
    Trainer trainer;
    /**
     * The batch in native memory, made once: from a Java array DJL copies through a fresh direct buffer per call,
     * which only the garbage collector frees, so the process would grow by a batch per step between collections.
     */
    private ByteBuffer images;
    private ByteBuffer labels;

    @Setup(Level.Trial)
    public void setUp() {
        setup = new TrainingStepSetup();
        TrainOptions o = setup.options;
        if (!o.activation().equals(dev.fuse4j.Activation.relu()) || !o.optimizer().equals("adam")) {
            throw new IllegalStateException("the PyTorch step is written for train's default ReLU and Adam, not "
                    + o.activation() + " and " + o.optimizer());
        }
        Engine engine = PyTorchPeer.engine();
        JniUtils.setNumThreads(TrainingStepSetup.cpuThreads());
        SequentialBlock mlp = new SequentialBlock();
        for (int h : o.hidden()) {
            mlp.add(Linear.builder().setUnits(h).build()).add(Activation.reluBlock())
                    .add(Dropout.builder().optRate(o.dropout()).build());
        }
        mlp.add(Linear.builder().setUnits(TrainingStepSetup.CLASSES).build());
        model = Model.newInstance("mlp", Device.cpu(), engine.getEngineName());
        model.setBlock(mlp);
        Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(o.lr()))
                .optBeta1(TrainCommand.ADAM_BETA1).optBeta2(TrainCommand.ADAM_BETA2).optEpsilon(TrainCommand.ADAM_EPS)
                .optWeightDecays(o.weightDecay()).build();
        trainer = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(adam)
                .optDevices(new Device[] {Device.cpu()}));
        trainer.initialize(new Shape(setup.batch(), TrainingStepSetup.FEATURES));
        images = direct(setup.images);
        labels = direct(setup.labels);
    }

    private static ByteBuffer direct(float[] values) {
        ByteBuffer b = ByteBuffer.allocateDirect(values.length * Float.BYTES).order(ByteOrder.nativeOrder());
        b.asFloatBuffer().put(values);
        return b;
    }

    /** One training step; returns its loss, read back, so the work is done and cannot be dropped. */
    float step() {
        try (NDManager step = trainer.getManager().newSubManager()) {
            NDArray x = step.create(images.rewind(), new Shape(setup.batch(), TrainingStepSetup.FEATURES),
                    DataType.FLOAT32);
            NDArray y = step.create(labels.rewind(), new Shape(setup.batch()), DataType.FLOAT32);
            float loss;
            try (GradientCollector gc = trainer.newGradientCollector()) {
                NDList logits = trainer.forward(new NDList(x));
                NDArray l = trainer.getLoss().evaluate(new NDList(y), logits);
                gc.backward(l);
                loss = l.getFloat();
            }
            trainer.step();
            return loss;
        }
    }

    @Benchmark
    public float trainingStep(ExampleCounter work) {
        float loss = step();
        work.examples += setup.batch();
        return loss;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        trainer.close();
        model.close();
    }
}
