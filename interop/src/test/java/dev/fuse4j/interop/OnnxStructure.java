package dev.fuse4j.interop;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What an ONNX file declares that ONNX Runtime's Java API does not show: the IR version, the opset imported and
 * the operator of every node, read by a protobuf reader of the test's own (field numbers from onnx.proto).
 */
record OnnxStructure(long irVersion, long opset, List<String> opTypes) {

    static OnnxStructure read(Path file) throws IOException {
        ByteBuffer model = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        long ir = -1, opset = -1;
        List<String> ops = new ArrayList<>();
        while (model.hasRemaining()) {
            long tag = varint(model);
            int field = (int) (tag >>> 3);
            if (field == 1) {
                ir = varint(model);
            } else if (field == 8) {
                ByteBuffer opsetId = delimited(model);
                while (opsetId.hasRemaining()) {
                    long t = varint(opsetId);
                    if (t >>> 3 == 2) {
                        opset = varint(opsetId);
                    } else {
                        skip(opsetId, (int) (t & 7));
                    }
                }
            } else if (field == 7) {
                ByteBuffer graph = delimited(model);
                while (graph.hasRemaining()) {
                    long t = varint(graph);
                    if (t >>> 3 == 1) {
                        ops.add(opType(delimited(graph)));
                    } else {
                        skip(graph, (int) (t & 7));
                    }
                }
            } else {
                skip(model, (int) (tag & 7));
            }
        }
        return new OnnxStructure(ir, opset, ops);
    }

    private static String opType(ByteBuffer node) {
        while (node.hasRemaining()) {
            long t = varint(node);
            if (t >>> 3 == 4) {
                return StandardCharsets.UTF_8.decode(delimited(node)).toString();
            }
            skip(node, (int) (t & 7));
        }
        throw new IllegalArgumentException("a node without op_type");
    }

    private static long varint(ByteBuffer b) {
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            byte x = b.get();
            v |= (long) (x & 0x7F) << shift;
            if (x >= 0) {
                return v;
            }
        }
    }

    private static ByteBuffer delimited(ByteBuffer b) {
        int len = (int) varint(b);
        ByteBuffer slice = b.slice(b.position(), len).order(ByteOrder.LITTLE_ENDIAN);
        b.position(b.position() + len);
        return slice;
    }

    private static void skip(ByteBuffer b, int wireType) {
        switch (wireType) {
            case 0 -> varint(b);
            case 1 -> b.position(b.position() + 8);
            case 2 -> delimited(b);
            case 5 -> b.position(b.position() + 4);
            default -> throw new IllegalArgumentException("wire type " + wireType + " at byte " + b.position());
        }
    }
}
