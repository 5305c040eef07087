package dev.fuse4j.kernels;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which buffers go to the driver as they are and which through a copy. */
class HostFloatsTest {

    @Test
    void aDirectBufferInTheNativeOrderGoesAsItIs() {
        FloatBuffer b = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).asFloatBuffer();
        HostFloats h = HostFloats.source(b);
        assertSame(b, h.direct());
        assertFalse(h.copied());
        assertSame(b, HostFloats.target(b).direct());
    }

    @Test
    void aHeapBufferGivesItsOwnArrayAndTheOffsetOfItsRegion() {
        float[] a = {0, 1, 2, 3, 4, 5};
        FloatBuffer region = FloatBuffer.wrap(a).position(2).slice();
        HostFloats h = HostFloats.source(region);
        assertNull(h.direct());
        assertSame(a, h.array());
        assertEquals(2, h.offset());
        assertFalse(h.copied());
    }

    @Test
    void theOtherByteOrderAndReadOnlyBuffersAreCopiedAndTargetsCopiedBack() {
        ByteOrder other = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
        FloatBuffer swapped = ByteBuffer.allocateDirect(12).order(other).asFloatBuffer().put(0, new float[] {1, 2, 3});
        HostFloats src = HostFloats.source(swapped);
        assertTrue(src.copied());
        assertArrayEquals(new float[] {1, 2, 3}, src.array(), "the copy holds the values, not the raw bytes");
        assertTrue(HostFloats.source(FloatBuffer.wrap(new float[] {4}).asReadOnlyBuffer()).copied());

        HostFloats dst = HostFloats.target(swapped);
        dst.array()[0] = 9; // as a driver would write it
        dst.finish(swapped);
        assertEquals(9f, swapped.get(0));
    }
}
