package dev.fuse4j;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PhiloxTest {

    /** Known-answer vectors for philox4x32_10 from Random123's kat_vectors file (counter, key, expected). */
    @Test
    void reproducesRandom123KnownAnswers() {
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                Philox.philox4x32_10(new int[] {0, 0, 0, 0}, new int[] {0, 0}));
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                Philox.philox4x32_10(new int[] {-1, -1, -1, -1}, new int[] {-1, -1}));
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                Philox.philox4x32_10(new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                        new int[] {0xa4093822, 0x299f31d0}));
    }

    @Test
    void keepFollowsTheCounterLayoutOfTheContract() {
        Dropout d = Dropout.train(0.5f, 0x1122334455667788L, 0x99AABBCCDDEEFF00L);
        long e = (5L << 2) + 3; // block 5, word 3
        int[] words = Philox.philox4x32_10(new int[] {5, 0, 0xDDEEFF00, 0x99AABBCC}, new int[] {0x55667788, 0x11223344});
        assertEquals((words[3] & 0xFFFFFFFFL) >= d.threshold(), Philox.keep(e, d));
        long big = (0x1_0000_0002L << 2) + 1; // a block index above 2^32 uses the high counter word
        int[] w2 = Philox.philox4x32_10(new int[] {2, 1, 0xDDEEFF00, 0x99AABBCC}, new int[] {0x55667788, 0x11223344});
        assertEquals((w2[1] & 0xFFFFFFFFL) >= d.threshold(), Philox.keep(big, d));
    }

    @Test
    void thresholdsAtTheEnds() {
        assertEquals(0L, Dropout.train(0f, 1, 2).threshold());
        assertEquals(1L << 32, Dropout.train(1f, 1, 2).threshold());
        assertEquals(1L << 31, Dropout.train(0.5f, 1, 2).threshold());
        assertTrue(Philox.keep(3, Dropout.train(0f, 1, 2)));
        assertFalse(Philox.keep(3, Dropout.train(1f, 1, 2)));
        assertEquals(0f, Dropout.train(1f, 1, 2).scale());
        assertEquals(2f, Dropout.train(0.5f, 1, 2).scale());
        assertEquals(1f, Dropout.eval().scale());
    }

    @Test
    void philoxMaskAgreesWithKeepInAnyOrder() {
        Dropout d = Dropout.train(0.3f, -5L, 1L << 40);
        PhiloxMask m = new PhiloxMask(d);
        for (long e = 0; e < 1000; e++) {
            assertEquals(Philox.keep(e, d), m.keep(e), "element " + e);
        }
        for (long e : new long[] {7, 3, 999, 4, 5, 1L << 33, 2}) {
            assertEquals(Philox.keep(e, d), m.keep(e), "element " + e + " out of order");
        }
        assertTrue(new PhiloxMask(Dropout.eval()).keep(12345));
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Philox.philox4x32_10(new int[3], new int[2]));
        assertThrows(IllegalArgumentException.class, () -> Philox.philox4x32_10(new int[4], new int[1]));
    }
}
