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

    /** Every word position of a block, low and high block indices, and an element base: the raw words, not booleans. */
    @Test
    void wordOfEachElementFollowsTheCounterLayoutAtAllFourPositions() {
        long seed = 0x0123456789ABCDEFL, offset = 0x0FEDCBA987654321L;
        int[] key = {0x89ABCDEF, 0x01234567};
        Dropout d = Dropout.train(0.25f, seed, offset);
        for (long q : new long[] {0, 5, 0xFFFF_FFFFL, 0x1_0000_0002L}) {
            int[] words = Philox.philox4x32_10(new int[] {(int) q, (int) (q >>> 32), 0x87654321, 0x0FEDCBA9}, key);
            for (int lane = 0; lane < 4; lane++) {
                long e = 4 * q + lane;
                assertEquals(words[lane] & 0xFFFFFFFFL, Philox.word(e, d), "block " + q + " word " + lane);
                // The same element reached as element 3 of a call whose element base is e - 3.
                if (e >= 3) {
                    assertEquals(words[lane] & 0xFFFFFFFFL, Philox.word(3, d.withElementBase(e - 3)),
                            "block " + q + " word " + lane + " through an element base");
                }
                for (float p : new float[] {0.1f, 0.25f, 0.5f, 0.9f}) {
                    Dropout dp = Dropout.train(p, seed, offset);
                    long threshold = (long) Math.floor((double) p * 4294967296.0);
                    assertEquals((words[lane] & 0xFFFFFFFFL) >= threshold, Philox.keep(e, dp),
                            "keep rule at p = " + p + ", block " + q + " word " + lane);
                }
            }
        }
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

    /**
     * Scale and threshold at p other than 0, 0.5 and 1, where a wrong formula (1 + 2p agrees with 1/(1 - p) at all
     * three) shows. The threshold is floor(p·2^32) of the float p: 0.9f is 15099494·2^-24, so 15099494·2^8.
     */
    @Test
    void scaleAndThresholdFollowFromP() {
        float[] ps = {0.25f, 0.75f, 0.9f, 0.1f, 1e-9f, 0.999999f};
        double[] scales = {4.0 / 3, 4, 10, 10.0 / 9, 1, 986895.0588235294}; // the last: 1/(1 - 0.999999f)
        long[] thresholds = {1L << 30, 3L << 30, 15099494L << 8, 13421773L << 5, 4, 4294962944L};
        for (int i = 0; i < ps.length; i++) {
            Dropout d = Dropout.train(ps[i], 1, 2);
            // float32 computes 1f / (1f - p): within a few ulps of the exact value.
            assertEquals(scales[i], d.scale(), scales[i] * 2e-6, "scale at p = " + ps[i]);
            assertEquals(thresholds[i], d.threshold(), "threshold at p = " + ps[i]);
        }
        assertEquals(0L, Dropout.eval().threshold());
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

    /**
     * DropConnect's weight mask: counter {@code (lo32(k >>> 2), hi32(k >>> 2) | 2^31, lo32(offset), hi32(offset))},
     * word {@code k & 3}, no element base; the output mask's counters never have that bit.
     */
    @Test
    void weightWordFollowsTheWeightStreamsCounterLayout() {
        long seed = 0x0123456789ABCDEFL, offset = 0x0FEDCBA987654321L;
        int[] key = {0x89ABCDEF, 0x01234567};
        Dropout d = Dropout.dropConnect(0.25f, seed, offset);
        for (long q : new long[] {0, 5, 0xFFFF_FFFFL, 0x1_0000_0002L}) {
            int[] words = Philox.philox4x32_10(new int[] {(int) q, (int) (q >>> 32) | 0x80000000, 0x87654321,
                0x0FEDCBA9}, key);
            int[] outputWords = Philox.philox4x32_10(new int[] {(int) q, (int) (q >>> 32), 0x87654321, 0x0FEDCBA9},
                    key);
            for (int lane = 0; lane < 4; lane++) {
                long k = 4 * q + lane;
                assertEquals(words[lane] & 0xFFFFFFFFL, Philox.weightWord(k, d), "block " + q + " word " + lane);
                assertEquals(outputWords[lane] & 0xFFFFFFFFL, Philox.word(k, Dropout.train(0.25f, seed, offset)),
                        "the output stream at block " + q + " word " + lane);
                assertEquals((words[lane] & 0xFFFFFFFFL) >= d.threshold(), Philox.keepWeight(k, d));
            }
        }
        // The largest output element index still has the stream bit clear.
        long lastBlock = Long.MAX_VALUE >>> 2;
        assertEquals(0, (int) (lastBlock >>> 32) & Philox.WEIGHT_STREAM, "an output counter reached the weight stream");
        assertTrue(Philox.keepWeight(3, Dropout.train(1f, seed, offset)), "output dropout keeps every weight");
        assertTrue(Philox.keep(3, Dropout.dropConnect(1f, seed, offset)), "DropConnect keeps every output");
    }

    @Test
    void philoxMaskOfTheWeightsAgreesWithKeepWeight() {
        Dropout d = Dropout.dropConnect(0.3f, -5L, 1L << 40);
        PhiloxMask m = PhiloxMask.weights(d);
        PhiloxMask outputs = new PhiloxMask(d);
        for (long k = 0; k < 1000; k++) {
            assertEquals(Philox.keepWeight(k, d), m.keep(k), "weight " + k);
            assertTrue(outputs.keep(k), "DropConnect masked output " + k);
        }
        assertTrue(PhiloxMask.weights(Dropout.train(0.9f, 1, 2)).keep(7), "output dropout masked a weight");
    }

    /** The DropConnect settings: its own factory, equality, text, step and slices. */
    @Test
    void dropConnectIsADropoutOnTheWeights() {
        Dropout d = Dropout.dropConnect(0.3f, 7L, 2L);
        assertTrue(d.dropConnect());
        assertTrue(d.training());
        assertFalse(Dropout.train(0.3f, 7L, 2L).dropConnect());
        assertFalse(Dropout.eval().dropConnect());
        assertEquals(Dropout.eval(), d.onOutputs());
        Dropout plain = Dropout.train(0.3f, 7L, 2L);
        assertEquals(plain, plain.onOutputs());
        assertFalse(d.equals(plain), "DropConnect equals output dropout of the same p, seed and offset");
        assertFalse(d.hashCode() == plain.hashCode() && d.equals(plain));
        assertEquals(Dropout.dropConnect(0.3f, 7L, 2L), d);
        assertEquals(Dropout.dropConnect(0.3f, 7L, 2L).hashCode(), d.hashCode());
        assertEquals("Dropout.dropConnect(p=0.3, seed=7, offset=2)", d.toString());
        assertEquals(Dropout.dropConnect(0.3f, 7L, 3L), d.next());
        assertEquals(d, d.withElementBase(99), "an element base changed DropConnect");
        assertEquals(d.scale(), plain.scale());
        assertEquals(d.threshold(), plain.threshold());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dropout.dropConnect(1.5f, 1, 1));
        assertTrue(e.getMessage().contains("1.5"), e.getMessage());
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Philox.philox4x32_10(new int[3], new int[2]));
        assertThrows(IllegalArgumentException.class, () -> Philox.philox4x32_10(new int[4], new int[1]));
    }
}
