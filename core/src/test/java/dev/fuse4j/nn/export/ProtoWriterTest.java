package dev.fuse4j.nn.export;

import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The wire format against the worked examples of the protocol buffers encoding guide, and its limits. */
class ProtoWriterTest {

    private static String hex(ProtoWriter w) {
        return HexFormat.ofDelimiter(" ").formatHex(w.toByteArray());
    }

    @Test
    void varintsAsTheGuideEncodesThem() {
        assertEquals("08 96 01", hex(new ProtoWriter().varint(1, 150)));
        assertEquals("08 00", hex(new ProtoWriter().varint(1, 0)));
        // int64 -1: two's complement, all ten bytes.
        assertEquals("08 ff ff ff ff ff ff ff ff ff 01", hex(new ProtoWriter().varint(1, -1)));
        // Field 20 (AttributeProto.type) needs a two-byte tag.
        assertEquals("a0 01 02", hex(new ProtoWriter().varint(20, 2)));
    }

    @Test
    void lengthDelimitedAndFixed32() {
        assertEquals("12 07 74 65 73 74 69 6e 67", hex(new ProtoWriter().string(2, "testing")));
        assertEquals("1a 03 08 96 01", hex(new ProtoWriter().message(3, new ProtoWriter().varint(1, 150))));
        assertEquals("15 00 00 80 3f", hex(new ProtoWriter().float32(2, 1f)));
        assertEquals("12 00", hex(new ProtoWriter().bytes(2, new byte[0])));
    }

    @Test
    void fieldsAreWrittenInOrderAndNestedCopiesAreIndependent() {
        ProtoWriter inner = new ProtoWriter().varint(1, 1);
        ProtoWriter outer = new ProtoWriter().message(1, inner).message(2, inner);
        inner.varint(2, 2);
        assertEquals("0a 02 08 01 12 02 08 01", hex(outer));
        assertEquals(8, outer.size());
    }

    @Test
    void fieldNumbersOutsideTheFormatAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ProtoWriter().varint(0, 1));
        assertTrue(e.getMessage().contains("not 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ProtoWriter().string(1 << 29, "x"));
    }
}
