package dev.fuse4j.nn.export;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The protocol buffers wire format, as much of it as an ONNX model needs: varints, 32-bit floats and
 * length-delimited fields (strings, bytes, nested messages). Fields are written in the order they are added.
 */
final class ProtoWriter {

    private static final int VARINT = 0;
    private static final int LENGTH_DELIMITED = 2;
    private static final int FIXED32 = 5;

    private byte[] buf = new byte[64];
    private int len;

    /** An {@code int32}, {@code int64} or enum field; negative values take ten bytes, as the format requires. */
    ProtoWriter varint(int field, long value) {
        tag(field, VARINT);
        rawVarint(value);
        return this;
    }

    ProtoWriter float32(int field, float value) {
        tag(field, FIXED32);
        int bits = Float.floatToRawIntBits(value);
        for (int i = 0; i < 4; i++) {
            put(bits >>> (8 * i));
        }
        return this;
    }

    ProtoWriter string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    ProtoWriter bytes(int field, byte[] value) {
        tag(field, LENGTH_DELIMITED);
        rawVarint(value.length);
        append(value, value.length);
        return this;
    }

    ProtoWriter message(int field, ProtoWriter message) {
        tag(field, LENGTH_DELIMITED);
        rawVarint(message.len);
        append(message.buf, message.len);
        return this;
    }

    int size() {
        return len;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, len);
    }

    private void tag(int field, int wireType) {
        if (field <= 0 || field >= 1 << 29) {
            throw new IllegalArgumentException("protobuf field numbers are 1 to 2^29 - 1, not " + field);
        }
        rawVarint((long) field << 3 | wireType);
    }

    private void rawVarint(long v) {
        while ((v & ~0x7FL) != 0) {
            put((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        put((int) v);
    }

    private void put(int b) {
        reserve(1);
        buf[len++] = (byte) b;
    }

    private void append(byte[] bytes, int count) {
        reserve(count);
        System.arraycopy(bytes, 0, buf, len, count);
        len += count;
    }

    private void reserve(int more) {
        if (more > Integer.MAX_VALUE - 8 - len) {
            throw new IllegalArgumentException("a protobuf message is limited to 2 GiB; this one would need "
                    + ((long) len + more) + " bytes");
        }
        if (len + more > buf.length) {
            buf = Arrays.copyOf(buf, (int) Math.min(Integer.MAX_VALUE - 8L, Math.max(2L * buf.length, len + more)));
        }
    }
}
