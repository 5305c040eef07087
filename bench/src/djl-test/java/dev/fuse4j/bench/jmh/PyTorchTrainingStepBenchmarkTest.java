package dev.fuse4j.bench.jmh;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The PyTorch training step, run a few times untimed: the same MLP as train's default, on the cpu's threads. */
class PyTorchTrainingStepBenchmarkTest {

    @Test
    void stepsTrainTheSameMlpOnTheSameThreads() {
        PyTorchTrainingStepBenchmark b = new PyTorchTrainingStepBenchmark();
        b.setUp();
        try {
            assertEquals(TrainingStepSetup.cpuThreads(), JniUtils.getNumThreads());
            List<Long> shapes = b.model.getBlock().getParameters().values().stream()
                    .map(p -> p.getArray().getShape().size()).toList();
            assertEquals(List.of(512L * 784, 512L, 512L * 512, 512L, 10L * 512, 10L), shapes,
                    "784-512-512-10 with biases, as train builds it");
            Parameter w0 = b.model.getBlock().getParameters().valueAt(0);
            float[] before = w0.getArray().toFloatArray();
            ExampleCounter counter = new ExampleCounter();
            float first = b.trainingStep(counter);
            float loss = first;
            for (int i = 0; i < 20; i++) {
                loss = b.trainingStep(counter);
            }
            assertEquals(21 * 128, counter.examples);
            assertTrue(Float.isFinite(first) && first > 0, "a cross-entropy loss: " + first);
            assertTrue(loss < first, "21 Adam steps on one batch lower its loss: " + first + " -> " + loss);
            NDArray after = w0.getArray();
            assertFalse(java.util.Arrays.equals(before, after.toFloatArray()), "Adam updated the first weights");
        } finally {
            b.tearDown();
        }
    }
}
