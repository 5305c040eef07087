package dev.fuse4j.nn.export;

import dev.fuse4j.Activation;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes a model as an ONNX {@code ModelProto} for inference: per layer a {@code Gemm} with {@code transB = 1}
 * (the weights stay in the nn.Linear layout {@code [out, in]}) and the activation; no dropout, which is the
 * identity at inference. Field numbers are those of the public {@code onnx/onnx.proto}.
 */
final class OnnxEncoder {

    static final int MIN_OPSET = 13;
    static final int MAX_OPSET = 22;
    /** The first opset with a {@code Gelu} operator; before it GELU is written as its tanh formula. */
    static final int GELU_OPSET = 20;

    // ModelProto
    private static final int MODEL_IR_VERSION = 1;
    private static final int MODEL_PRODUCER_NAME = 2;
    private static final int MODEL_DOC_STRING = 6;
    private static final int MODEL_GRAPH = 7;
    private static final int MODEL_OPSET_IMPORT = 8;
    private static final int MODEL_METADATA_PROPS = 14;
    // OperatorSetIdProto
    private static final int OPSET_DOMAIN = 1;
    private static final int OPSET_VERSION = 2;
    // StringStringEntryProto
    private static final int ENTRY_KEY = 1;
    private static final int ENTRY_VALUE = 2;
    // GraphProto
    private static final int GRAPH_NODE = 1;
    private static final int GRAPH_NAME = 2;
    private static final int GRAPH_INITIALIZER = 5;
    private static final int GRAPH_INPUT = 11;
    private static final int GRAPH_OUTPUT = 12;
    // NodeProto
    private static final int NODE_INPUT = 1;
    private static final int NODE_OUTPUT = 2;
    private static final int NODE_NAME = 3;
    private static final int NODE_OP_TYPE = 4;
    private static final int NODE_ATTRIBUTE = 5;
    // AttributeProto and its AttributeType values
    private static final int ATTR_NAME = 1;
    private static final int ATTR_F = 2;
    private static final int ATTR_I = 3;
    private static final int ATTR_S = 4;
    private static final int ATTR_TYPE = 20;
    private static final int ATTR_TYPE_FLOAT = 1;
    private static final int ATTR_TYPE_INT = 2;
    private static final int ATTR_TYPE_STRING = 3;
    // TensorProto and its DataType FLOAT
    private static final int TENSOR_DIMS = 1;
    private static final int TENSOR_DATA_TYPE = 2;
    private static final int TENSOR_NAME = 8;
    private static final int TENSOR_RAW_DATA = 9;
    private static final int DATA_TYPE_FLOAT = 1;
    // ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, TensorShapeProto.Dimension
    private static final int VALUE_INFO_NAME = 1;
    private static final int VALUE_INFO_TYPE = 2;
    private static final int TYPE_TENSOR_TYPE = 1;
    private static final int TENSOR_TYPE_ELEM_TYPE = 1;
    private static final int TENSOR_TYPE_SHAPE = 2;
    private static final int SHAPE_DIM = 1;
    private static final int DIM_VALUE = 1;
    private static final int DIM_PARAM = 2;

    /** The cubic coefficient of GELU's tanh form, as Fuse4J's kernels round it. */
    private static final float GELU_CUBIC = 0.044715f;
    // Names of the constants the tanh form of GELU multiplies and adds.
    private static final String GELU_A = "gelu_cubic_coefficient";
    private static final String GELU_C = "gelu_sqrt_2_over_pi";
    private static final String ONE = "one";
    private static final String HALF = "half";

    private OnnxEncoder() {
    }

    /**
     * The lowest IR version that carries {@code opset}, so that older runtimes accept the file: opsets 13–14
     * came with IR 7, 15–18 with IR 8, 19–20 with IR 9, 21–22 with IR 10.
     */
    static int irVersion(int opset) {
        if (opset < MIN_OPSET || opset > MAX_OPSET) {
            throw new IllegalArgumentException("ONNX opset must be " + MIN_OPSET + " to " + MAX_OPSET + " but is "
                    + opset);
        }
        return opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
    }

    /** The model as one ModelProto whose graph maps {@code input [batch, in]} to {@code output [batch, out]}. */
    static byte[] encode(ExportedModel model, int opset, String inputName, String outputName) {
        int ir = irVersion(opset);
        ProtoWriter graph = new ProtoWriter().string(GRAPH_NAME, "fuse4j_sequential");
        List<ProtoWriter> initializers = new ArrayList<>();
        boolean geluConstants = false;
        String h = inputName;
        List<ExportedModel.DenseLayer> layers = model.layers();
        for (int i = 0; i < layers.size(); i++) {
            ExportedModel.DenseLayer l = layers.get(i);
            boolean last = i == layers.size() - 1;
            String y = last ? outputName : l.name() + "_output";
            Activation.Kind kind = l.activation().kind();
            String z = kind == Activation.Kind.IDENTITY ? y : l.name() + "_preactivation";
            initializers.add(floatTensor(l.weightName(), l.weight(), l.out(), l.in()));
            initializers.add(floatTensor(l.biasName(), l.bias(), l.out()));
            graph.message(GRAPH_NODE, node(l.name() + "_gemm", "Gemm", List.of(h, l.weightName(), l.biasName()), z)
                    .message(NODE_ATTRIBUTE, intAttribute("transB", 1)));
            switch (kind) {
                case RELU -> graph.message(GRAPH_NODE, node(l.name() + "_relu", "Relu", List.of(z), y));
                case LEAKY_RELU -> graph.message(GRAPH_NODE, node(l.name() + "_leaky_relu", "LeakyRelu",
                        List.of(z), y).message(NODE_ATTRIBUTE, floatAttribute("alpha", l.activation().alpha())));
                case GELU -> {
                    if (opset >= GELU_OPSET) {
                        graph.message(GRAPH_NODE, node(l.name() + "_gelu", "Gelu", List.of(z), y)
                                .message(NODE_ATTRIBUTE, stringAttribute("approximate", "tanh")));
                    } else {
                        geluTanhForm(graph, l.name(), z, y);
                        geluConstants = true;
                    }
                }
                case ELU -> graph.message(GRAPH_NODE, node(l.name() + "_elu", "Elu", List.of(z), y)
                        .message(NODE_ATTRIBUTE, floatAttribute("alpha", l.activation().alpha())));
                case PRELU -> {
                    // The slopes [out] broadcast over the batch's rows.
                    initializers.add(floatTensor(l.slopeName(), l.slope(), l.out()));
                    graph.message(GRAPH_NODE, node(l.name() + "_prelu", "PRelu", List.of(z, l.slopeName()), y));
                }
                case IDENTITY -> {
                    // The Gemm already wrote y.
                }
            }
            h = y;
        }
        if (geluConstants) {
            initializers.add(floatTensor(GELU_A, new float[] {GELU_CUBIC}));
            initializers.add(floatTensor(GELU_C, new float[] {(float) Activation.GELU_C}));
            initializers.add(floatTensor(ONE, new float[] {1f}));
            initializers.add(floatTensor(HALF, new float[] {0.5f}));
        }
        for (ProtoWriter t : initializers) {
            graph.message(GRAPH_INITIALIZER, t);
        }
        graph.message(GRAPH_INPUT, batchOf(inputName, model.inFeatures()));
        graph.message(GRAPH_OUTPUT, batchOf(outputName, model.outFeatures()));

        ProtoWriter m = new ProtoWriter()
                .varint(MODEL_IR_VERSION, ir)
                .message(MODEL_OPSET_IMPORT, new ProtoWriter().string(OPSET_DOMAIN, "").varint(OPSET_VERSION, opset))
                .string(MODEL_PRODUCER_NAME, "Fuse4J")
                .string(MODEL_DOC_STRING, "A dev.fuse4j.nn.Sequential for inference (dropout removed): "
                        + model.architecture().replace("\n", "; "))
                .message(MODEL_GRAPH, graph)
                .message(MODEL_METADATA_PROPS, new ProtoWriter().string(ENTRY_KEY, "fuse4j.architecture")
                        .string(ENTRY_VALUE, model.architecture()));
        return m.toByteArray();
    }

    /**
     * {@code 0.5·z·(1 + tanh(√(2/π)·(z + 0.044715·z³)))}, evaluated in the order Fuse4J's kernels evaluate it, for
     * opsets without a {@code Gelu} operator.
     */
    private static void geluTanhForm(ProtoWriter graph, String layer, String z, String y) {
        String p = layer + "_gelu_";
        graph.message(GRAPH_NODE, node(p + "square", "Mul", List.of(z, z), p + "z2"));
        graph.message(GRAPH_NODE, node(p + "cube", "Mul", List.of(p + "z2", z), p + "z3"));
        graph.message(GRAPH_NODE, node(p + "scale_cube", "Mul", List.of(p + "z3", GELU_A), p + "a"));
        graph.message(GRAPH_NODE, node(p + "inner_sum", "Add", List.of(p + "a", z), p + "s"));
        graph.message(GRAPH_NODE, node(p + "inner", "Mul", List.of(p + "s", GELU_C), p + "u"));
        graph.message(GRAPH_NODE, node(p + "tanh", "Tanh", List.of(p + "u"), p + "t"));
        graph.message(GRAPH_NODE, node(p + "one_plus", "Add", List.of(ONE, p + "t"), p + "v"));
        graph.message(GRAPH_NODE, node(p + "half_z", "Mul", List.of(HALF, z), p + "hz"));
        graph.message(GRAPH_NODE, node(p + "product", "Mul", List.of(p + "hz", p + "v"), y));
    }

    private static ProtoWriter node(String name, String op, List<String> inputs, String output) {
        ProtoWriter n = new ProtoWriter();
        for (String in : inputs) {
            n.string(NODE_INPUT, in);
        }
        return n.string(NODE_OUTPUT, output).string(NODE_NAME, name).string(NODE_OP_TYPE, op);
    }

    private static ProtoWriter intAttribute(String name, long value) {
        return new ProtoWriter().string(ATTR_NAME, name).varint(ATTR_I, value).varint(ATTR_TYPE, ATTR_TYPE_INT);
    }

    private static ProtoWriter floatAttribute(String name, float value) {
        return new ProtoWriter().string(ATTR_NAME, name).float32(ATTR_F, value).varint(ATTR_TYPE, ATTR_TYPE_FLOAT);
    }

    private static ProtoWriter stringAttribute(String name, String value) {
        return new ProtoWriter().string(ATTR_NAME, name).string(ATTR_S, value).varint(ATTR_TYPE, ATTR_TYPE_STRING);
    }

    /** A float32 initializer; no dims makes a scalar, as a one-element array of values. */
    private static ProtoWriter floatTensor(String name, float[] values, int... dims) {
        ProtoWriter t = new ProtoWriter();
        for (int d : dims) {
            t.varint(TENSOR_DIMS, d);
        }
        ByteBuffer raw = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(values);
        return t.varint(TENSOR_DATA_TYPE, DATA_TYPE_FLOAT).string(TENSOR_NAME, name)
                .bytes(TENSOR_RAW_DATA, raw.array());
    }

    /** A float32 {@code [batch, features]} graph input or output whose first dimension is left open. */
    private static ProtoWriter batchOf(String name, int features) {
        ProtoWriter shape = new ProtoWriter()
                .message(SHAPE_DIM, new ProtoWriter().string(DIM_PARAM, "batch"))
                .message(SHAPE_DIM, new ProtoWriter().varint(DIM_VALUE, features));
        ProtoWriter tensorType = new ProtoWriter().varint(TENSOR_TYPE_ELEM_TYPE, DATA_TYPE_FLOAT)
                .message(TENSOR_TYPE_SHAPE, shape);
        return new ProtoWriter().string(VALUE_INFO_NAME, name)
                .message(VALUE_INFO_TYPE, new ProtoWriter().message(TYPE_TENSOR_TYPE, tensorType));
    }
}
