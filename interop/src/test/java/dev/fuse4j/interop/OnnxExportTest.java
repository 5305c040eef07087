package dev.fuse4j.interop;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.Backends;
import dev.fuse4j.Tensor;
import dev.fuse4j.nn.Dense;
import dev.fuse4j.nn.Layer;
import dev.fuse4j.nn.Sequential;
import dev.fuse4j.nn.export.ModelExport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Models exported to ONNX, run by ONNX Runtime: on 1000 inputs its outputs and Fuse4J's evaluation-mode outputs
 * both stay within the contract bound of the float64 reference, for every activation and for opsets with and
 * without a {@code Gelu} operator.
 */
class OnnxExportTest {

    private static final int N = 1000;
    /** The lowest opset, the default, the first with {@code Gelu}, the highest. */
    private static final int[] OPSETS = {ModelExport.MIN_OPSET, ModelExport.DEFAULT_OPSET, 20, ModelExport.MAX_OPSET};
    /** The IR version each of those opsets was released with (onnx/helper.py's version table). */
    private static final Map<Integer, Long> IR_VERSION = Map.of(13, 7L, 17, 8L, 20, 9L, 22, 10L);

    @TempDir
    Path dir;

    static Stream<Arguments> backendsAndActivations() {
        return Stream.of("cpu", "cpu-scalar").flatMap(be -> Stream.of(Activation.relu(), Activation.leakyRelu(0.1f),
                Activation.gelu(), Activation.identity(), Activation.elu(0.5f), Activation.prelu())
                .map(act -> Arguments.of(be, act)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("backendsAndActivations")
    void onnxRuntimeMatchesEvalModeForEveryActivation(String backend, Activation act) throws Exception {
        Backend be = Backends.get(backend);
        try (Sequential model = TrainedModels.twoHidden(be, act)) {
            for (int opset : OPSETS) {
                checkAgainstOnnxRuntime(model, opset);
            }
        }
    }

    @Test
    void onnxRuntimeMatchesEvalModeWithEveryActivationInOneModel() throws Exception {
        try (Sequential model = TrainedModels.everyActivation(Backends.get("cpu"))) {
            for (int opset : OPSETS) {
                checkAgainstOnnxRuntime(model, opset);
            }
        }
    }

    /** Batch norm leaves as its evaluation form: a Gemm on the folded weights, then the activation. */
    @Test
    void onnxRuntimeMatchesEvalModeOfABatchNormModel() throws Exception {
        try (Sequential model = TrainedModels.batchNorm(Backends.get("cpu"))) {
            for (int opset : OPSETS) {
                checkAgainstOnnxRuntime(model, opset);
            }
        }
    }

    @Test
    void defaultExportDeclaresNamedInputAndOutputWithAnOpenBatch() throws Exception {
        try (Sequential model = TrainedModels.twoHidden(Backends.get("cpu"), Activation.relu())) {
            Path file = dir.resolve("model.onnx");
            long live = Tensor.liveCount();
            ModelExport.onnx(model, file);
            assertEquals(live, Tensor.liveCount(), "export must not leave tensors behind");
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions o = options(); OrtSession s = env.createSession(file.toString(), o)) {
                assertEquals(model.describe(), s.getMetadata().getCustomMetadataValue("fuse4j.architecture")
                        .orElseThrow());
                assertEquals("Fuse4J", s.getMetadata().getProducerName());
                NodeInfo in = s.getInputInfo().get(ModelExport.INPUT_NAME);
                NodeInfo out = s.getOutputInfo().get(ModelExport.OUTPUT_NAME);
                assertEquals(1, s.getInputInfo().size());
                assertEquals(1, s.getOutputInfo().size());
                assertArrayEquals(new long[] {-1, TrainedModels.IN}, ((TensorInfo) in.getInfo()).getShape());
                assertArrayEquals(new long[] {-1, TrainedModels.OUT}, ((TensorInfo) out.getInfo()).getShape());
            }
        }
    }

    private void checkAgainstOnnxRuntime(Sequential model, int opset) throws IOException, OrtException {
        Path file = dir.resolve("model-" + opset + ".onnx");
        ModelExport.onnx(model, file, opset);
        OnnxStructure structure = OnnxStructure.read(file);
        assertEquals(opset, structure.opset());
        assertEquals(IR_VERSION.get(opset), structure.irVersion(), "IR version for opset " + opset);
        assertEquals(expectedOps(model, opset), structure.opTypes(), "operators at opset " + opset);
        float[] x = TrainedModels.inputs(N, 7 + opset);
        float[] fuse = TrainedModels.evalOutput(model, x, N);
        PropagatedReference ref = PropagatedReference.of(model, x, N);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = options(); OrtSession s = env.createSession(file.toString(), o)) {
            String where = model.backend().name() + ", opset " + opset;
            float[] ort = run(env, s, x, N);
            check("ONNX Runtime", ort, ref, where);
            check("Fuse4J eval mode", fuse, ref, where);
            // The batch dimension is open: a batch of 3 gives the first 3 rows of the same function.
            float[] small = run(env, s, Arrays.copyOf(x, 3 * TrainedModels.IN), 3);
            check("ONNX Runtime (batch of 3)", small, ref, where);
        }
    }

    /** Per layer a Gemm and its activation; never a Dropout. */
    private static List<String> expectedOps(Sequential model, int opset) {
        List<String> ops = new ArrayList<>();
        for (Layer l : model.layers()) {
            ops.add("Gemm");
            switch (((Dense) l).activation().kind()) {
                case RELU -> ops.add("Relu");
                case LEAKY_RELU -> ops.add("LeakyRelu");
                case GELU -> ops.addAll(opset >= 20 ? List.of("Gelu")
                        : List.of("Mul", "Mul", "Mul", "Add", "Mul", "Tanh", "Add", "Mul", "Mul"));
                case ELU -> ops.add("Elu");
                case PRELU -> ops.add("PRelu");
                case IDENTITY -> {
                }
            }
        }
        return ops;
    }

    private static float[] run(OrtEnvironment env, OrtSession s, float[] x, int n) throws OrtException {
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {n, TrainedModels.IN});
             OrtSession.Result r = s.run(Map.of(ModelExport.INPUT_NAME, t))) {
            OnnxTensor y = (OnnxTensor) r.get(ModelExport.OUTPUT_NAME).orElseThrow();
            assertArrayEquals(new long[] {n, TrainedModels.OUT}, y.getInfo().getShape());
            FloatBuffer fb = y.getFloatBuffer();
            float[] out = new float[fb.remaining()];
            fb.get(out);
            return out;
        }
    }

    /** Each of {@code y}'s elements within the bound of the reference's matching element. */
    private static void check(String who, float[] y, PropagatedReference ref, String where) {
        for (int e = 0; e < y.length; e++) {
            double err = Math.abs(y[e] - ref.y()[e]);
            if (!(err <= ref.bound()[e])) {
                fail(who + " gives y[" + e / TrainedModels.OUT + "][" + e % TrainedModels.OUT + "] = " + y[e]
                        + " but float64 gives " + ref.y()[e] + ": error " + err + " over the bound "
                        + ref.bound()[e] + " (" + where + ")");
            }
        }
    }

    private static OrtSession.SessionOptions options() throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        // The build machines are small and shared: one thread is plenty for 1000 rows.
        o.setIntraOpNumThreads(1);
        return o;
    }
}
