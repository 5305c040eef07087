package dev.fuse4j.bench.jmh;

import dev.fuse4j.bench.train.TrainOptions;

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

    /** The fuse4j.cpu.threads setting and its environment twin, read by the cpu backend's worker pool too. */
    static final String THREADS_PROPERTY = "fuse4j.cpu.threads";
    static final String THREADS_ENV = "FUSE4J_CPU_THREADS";

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

    /**
     * The threads the cpu backend works on: {@value #THREADS_PROPERTY}, else {@value #THREADS_ENV}, else every
     * processor; the PyTorch run is given the same count of intra-op threads.
     */
    static int cpuThreads() {
        String property = System.getProperty(THREADS_PROPERTY);
        String value = property != null ? property : System.getenv(THREADS_ENV);
        if (value == null || value.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below with the value
        }
        throw new IllegalArgumentException((property != null ? THREADS_PROPERTY : THREADS_ENV) + " is '" + value
                + "' but must be a whole number of threads, 1 or more");
    }
}
