package dev.fuse4j.nn.export;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a model's weights in the safetensors format: an 8-byte little-endian header length, a JSON header that
 * gives each tensor's dtype, shape and byte range, then the tensors' little-endian bytes back to back. Tensors are
 * named as Fuse4J names its parameters ({@code layer0.weight [out, in]}, {@code layer0.bias [out]}, ...).
 */
final class SafetensorsEncoder {

    /** Floats converted to bytes at a time: a bounded buffer, whatever the size of a layer. */
    private static final int CHUNK_FLOATS = 1 << 16;

    private SafetensorsEncoder() {
    }

    static void write(ExportedModel model, OutputStream out) throws IOException {
        Map<String, String> metadata = new LinkedHashMap<>();
        // "pt" is what PyTorch's own safetensors writer records: the tensors are a torch state dict.
        metadata.put("format", "pt");
        metadata.put("fuse4j.architecture", model.architecture());
        metadata.put("pytorch.module", TorchModule.expression(model));

        List<String> entries = new ArrayList<>();
        entries.add(quote("__metadata__") + ":" + object(metadata));
        List<float[]> data = new ArrayList<>();
        long offset = 0;
        for (ExportedModel.DenseLayer l : model.layers()) {
            offset = entry(entries, l.weightName(), new int[] {l.out(), l.in()}, l.weight(), offset);
            offset = entry(entries, l.biasName(), new int[] {l.out()}, l.bias(), offset);
            data.add(l.weight());
            data.add(l.bias());
            if (l.slope() != null) {
                offset = entry(entries, l.slopeName(), new int[] {l.out()}, l.slope(), offset);
                data.add(l.slope());
            }
        }
        StringBuilder header = new StringBuilder("{").append(String.join(",", entries)).append('}');
        // Spaces pad the header so the tensor data starts 8-byte aligned, as readers that map the file prefer.
        int length = header.toString().getBytes(StandardCharsets.UTF_8).length;
        header.append(" ".repeat((8 - length % 8) % 8));
        byte[] headerBytes = header.toString().getBytes(StandardCharsets.UTF_8);

        ByteBuffer size = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        size.putLong(headerBytes.length);
        out.write(size.array());
        out.write(headerBytes);
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK_FLOATS * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] values : data) {
            for (int from = 0; from < values.length; from += CHUNK_FLOATS) {
                int count = Math.min(CHUNK_FLOATS, values.length - from);
                chunk.clear();
                chunk.asFloatBuffer().put(values, from, count);
                out.write(chunk.array(), 0, count * Float.BYTES);
            }
        }
    }

    /** Adds a float32 tensor's header entry and returns the end of its byte range. */
    private static long entry(List<String> entries, String name, int[] shape, float[] values, long begin) {
        long end = begin + (long) Float.BYTES * values.length;
        StringBuilder dims = new StringBuilder();
        for (int d : shape) {
            dims.append(dims.isEmpty() ? "" : ",").append(d);
        }
        entries.add(quote(name) + ":{\"dtype\":\"F32\",\"shape\":[" + dims + "],\"data_offsets\":[" + begin + ","
                + end + "]}");
        return end;
    }

    private static String object(Map<String, String> values) {
        List<String> members = new ArrayList<>();
        values.forEach((k, v) -> members.add(quote(k) + ":" + quote(v)));
        return "{" + String.join(",", members) + "}";
    }

    /** A JSON string literal: quotes, backslashes and control characters escaped. */
    private static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
