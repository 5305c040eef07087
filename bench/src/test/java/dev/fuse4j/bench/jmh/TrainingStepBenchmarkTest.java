package dev.fuse4j.bench.jmh;

import dev.fuse4j.Backends;
import dev.fuse4j.Tensor;
import dev.fuse4j.cpu.CpuThreads;
import dev.fuse4j.nn.Dense;
import dev.fuse4j.nn.Layer;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The training-step benchmark's step, run a few times untimed: train's default model, learning, nothing leaked. */
class TrainingStepBenchmarkTest {

    @Test
    void stepsTrainTheDefaultModelAndCloseEverything() {
        long before = Tensor.liveCount();
        TrainingStepBenchmark b = new TrainingStepBenchmark();
        b.backend = "cpu";
        b.setUp();
        try {
            assertEquals(784, b.model.inFeatures());
            assertEquals(List.of(512, 512, 10), b.model.layers().stream().map(Layer::outFeatures).toList());
            List<Float> dropout = b.model.layers().stream().map(l -> ((Dense) l).dropoutP()).toList();
            assertEquals(List.of(0.2f, 0.2f, 0f), dropout, "train's default: dropout 0.2 on the hidden layers");
            assertTrue(b.optimizer.describe().startsWith("adam(lr=0.001, betas=(0.9, 0.999), eps=1.0E-8"),
                    b.optimizer.describe());
            assertEquals(128, b.setup.batch());

            float[] w0 = b.model.parameters().get(0).value().toArray();
            ExampleCounter counter = new ExampleCounter();
            double first = b.trainingStep(counter);
            double loss = first;
            for (int i = 0; i < 20; i++) {
                loss = b.trainingStep(counter);
            }
            assertEquals(21 * 128, counter.examples);
            assertTrue(Double.isFinite(first) && first > 0, "a cross-entropy loss: " + first);
            assertTrue(loss < first, "21 Adam steps on one batch lower its loss: " + first + " -> " + loss);
            assertFalse(java.util.Arrays.equals(w0, b.model.parameters().get(0).value().toArray()),
                    "the step updated the first layer's weights");
            b.checkNothingLeaked();

            Tensor stray = Backends.get("cpu").zeros(1);
            IllegalStateException e = assertThrows(IllegalStateException.class, b::checkNothingLeaked);
            assertTrue(e.getMessage().startsWith("1 tensors were left open"), e.getMessage());
            stray.close();
        } finally {
            b.tearDown();
        }
        assertEquals(before, Tensor.liveCount());
    }

    @Test
    void theThreadCountFollowsTheCpuBackendsSetting() {
        String old = System.getProperty(CpuThreads.PROPERTY);
        try {
            System.setProperty(CpuThreads.PROPERTY, "3");
            assertEquals(3, TrainingStepSetup.cpuThreads());
            System.setProperty(CpuThreads.PROPERTY, "zero");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, TrainingStepSetup::cpuThreads);
            assertTrue(e.getMessage().contains("fuse4j.cpu.threads is 'zero'"), e.getMessage());
            System.clearProperty(CpuThreads.PROPERTY);
            if (System.getenv(CpuThreads.ENV) == null) {
                assertEquals(Runtime.getRuntime().availableProcessors(), TrainingStepSetup.cpuThreads());
            }
        } finally {
            if (old == null) {
                System.clearProperty(CpuThreads.PROPERTY);
            } else {
                System.setProperty(CpuThreads.PROPERTY, old);
            }
        }
    }
}
