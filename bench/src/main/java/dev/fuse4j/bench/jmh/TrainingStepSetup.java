package dev.fuse4j.bench.jmh;

import dev.fuse4j.bench.train.TrainOptions;
import dev.fuse4j.cpu.CpuThreads;

import java.util.SplittableRandom;

/**
 * What one training step of the training-step benchmarks is, for Fuse4J and for PyTorch alike: the model, batch,
 * dropout and optimizer {@code ./fuse4j train} uses when given no options (an MLP 784-512-512-10 with ReLU and
 * dropout 0.2 on the hidden layers, Adam at lr 0.001, batch 128), on one synthetic batch of Fashion-MNIST's shape.
 */
final class TrainingStepSetup {
    /** Fashion-MNIST's 28×28 pixels and 10 classes. */
    static final int FEATURES = 784;
    static final int CLASSES = 10;
    private static final long DATA_SEED = 20_251_202L;

    final TrainOptions options = TrainOptions.parse();
    /** One batch of pixels in [0, 1), row-major {@code [batch, FEATURES]}. */
    final float[] images;
    /** One class index per example, as a float (the form {@code softmaxCrossEntropy} takes). */
    final float[] labels;

    TrainingStepSetup() {
        int batch = options.batch();
        SplittableRandom r = new SplittableRandom(DATA_SEED);
        images = new float[batch * FEATURES];
        labels = new float[batch];
        for (int i = 0; i < images.length; i++) {
            images[i] = (float) r.nextDouble();
        }
        for (int i = 0; i < batch; i++) {
            labels[i] = r.nextInt(CLASSES);
        }
    }

    int batch() {
        return options.batch();
    }

    /** The threads the cpu backend works on ({@link CpuThreads#configured()}); PyTorch is given as many. */
    static int cpuThreads() {
        return CpuThreads.configured();
    }
}
