package dev.fuse4j;

import dev.fuse4j.reference.Reference;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Channel and variational dropout as {@link Dropout} options: the mask index rule and the settings' identity. */
class DropoutModesTest {

    /**
     * With {@code e = (r0 + i)·out + j} and {@code out = channels·F}, {@code e / F} is {@code row·channels + channel}:
     * the rule "element e draws index e / F" names one draw per (row, channel) whatever the element base.
     */
    @Test
    void channelIndexIsRowTimesChannelsPlusChannel() {
        int features = 3, channels = 5, out = features * channels;
        Dropout d = Dropout.train(0.5f, 1, 2).channels(features);
        for (int row = 0; row < 9; row++) {
            for (int j = 0; j < out; j++) {
                assertEquals((long) row * channels + j / features, d.maskIndex((long) row * out + j),
                        "row " + row + " column " + j);
            }
        }
    }

    /** Variational: rows t·S + s draw index (s·out + j) at every step t; an element base keeps a slice in step. */
    @Test
    void variationalIndexIgnoresTheTimeStep() {
        int sequences = 4, out = 7;
        Dropout d = Dropout.train(0.5f, 1, 2).variational(sequences).withColumns(out);
        for (int t = 0; t < 5; t++) {
            for (int s = 0; s < sequences; s++) {
                for (int j = 0; j < out; j++) {
                    long e = ((long) t * sequences + s) * out + j;
                    assertEquals((long) s * out + j, d.maskIndex(e), "step " + t + " sequence " + s + " feature " + j);
                }
            }
        }
        assertEquals(28, d.maskPeriod());
        assertThrows(IllegalStateException.class, () -> Dropout.train(0.5f, 1, 2).variational(3).maskIndex(5),
                "variational without bound columns");
    }

    @Test
    void hostMaskCodeDrawsTheReferenceMaskInEveryMode() {
        Dropout[] modes = {Dropout.train(0.3f, -3L, 9L).channels(6), Dropout.train(0.3f, -3L, 9L).variational(5),
            Dropout.train(0.6f, 4L, 1L << 35).channels(2).variational(3).withElementBase(13)};
        int n = 15, out = 12;
        for (Dropout mode : modes) {
            Dropout d = mode.withColumns(out);
            boolean[] keep = Reference.mask(n, out, d);
            PhiloxMask m = new PhiloxMask(d);
            int kept = 0;
            for (int e = 0; e < keep.length; e++) {
                assertEquals(keep[e], Philox.keep(e, d), "Philox.keep, element " + e + ", " + d);
                assertEquals(keep[e], m.keep(e), "PhiloxMask, element " + e + ", " + d);
                kept += keep[e] ? 1 : 0;
            }
            assertTrue(kept > 0 && kept < keep.length, kept + " of " + keep.length + " kept for " + d);
        }
    }

    @Test
    void optionsAreKeptByNextAndElementBaseAndTellApart() {
        Dropout d = Dropout.train(0.5f, 1, 2).channels(4).variational(3);
        Dropout later = d.next().withElementBase(8);
        assertEquals(4, later.featuresPerChannel());
        assertEquals(3, later.sequences());
        assertEquals(3, later.offset());
        assertEquals(Dropout.train(0.5f, 1, 2).channels(4).variational(3), d);
        assertEquals(d.hashCode(), Dropout.train(0.5f, 1, 2).channels(4).variational(3).hashCode());
        assertNotEquals(Dropout.train(0.5f, 1, 2), d);
        assertNotEquals(Dropout.train(0.5f, 1, 2).channels(4), d);
        assertNotEquals(d.withColumns(10), d);
        assertEquals("Dropout.train(p=0.5, seed=1, offset=2, featuresPerChannel=4, sequences=3, columns=10)",
                d.withColumns(10).toString());
        assertEquals("Dropout.train(p=0.5, seed=1, offset=2)", Dropout.train(0.5f, 1, 2).toString());
        assertTrue(Dropout.train(0.5f, 1, 2).elementwise());
        assertTrue(Dropout.train(0.5f, 1, 2).channels(1).variational(0).elementwise());
        Dropout plain = Dropout.train(0.5f, 1, 2);
        assertSame(plain, plain.withColumns(10), "plain dropout needs no columns");
        assertSame(Dropout.eval(), Dropout.eval().channels(4).variational(2), "evaluation ignores the options");
    }

    @Test
    void badOptionsAreRefusedNamingTheValue() {
        Dropout d = Dropout.train(0.5f, 1, 2);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.channels(0)).getMessage().contains("0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.variational(-2)).getMessage().contains("-2"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.withColumns(0)).getMessage().contains("0"));
    }

    /**
     * The modes shape output masks, so DropConnect refuses them naming the mode (the no-op settings pass), and the
     * weights flag stays part of a dropout's identity beside the modes' fields.
     */
    @Test
    void dropConnectRefusesTheModesAndStaysApartFromOutputDropout() {
        Dropout dc = Dropout.dropConnect(0.5f, 1, 2);
        String channels = assertThrows(IllegalArgumentException.class, () -> dc.channels(4)).getMessage();
        assertTrue(channels.contains("channels(4)") && channels.contains("dropConnect"), channels);
        String variational = assertThrows(IllegalArgumentException.class, () -> dc.variational(3)).getMessage();
        assertTrue(variational.contains("variational(3)"), variational);
        assertEquals(dc, dc.channels(1).variational(0).withColumns(9), "no-op options and columns keep DropConnect");
        assertEquals(dc, dc.withElementBase(40), "one weight mask whatever the rows");
        assertEquals(Dropout.dropConnect(0.5f, 1, 3), dc.next());
        assertTrue(dc.next().dropConnect());
        assertNotEquals(Dropout.train(0.5f, 1, 2), dc);
        assertNotEquals(Dropout.train(0.5f, 1, 2).hashCode(), dc.hashCode());
        assertSame(Dropout.eval(), dc.onOutputs());
        Dropout channelled = Dropout.train(0.5f, 1, 2).channels(4);
        assertSame(channelled, channelled.onOutputs(), "output dropout keeps its mode on the outputs");
    }
}
