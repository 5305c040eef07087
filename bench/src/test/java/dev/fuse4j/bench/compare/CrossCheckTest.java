package dev.fuse4j.bench.compare;

import dev.fuse4j.Backends;
import dev.fuse4j.Dropout;
import dev.fuse4j.bench.peers.LayerInputs;
import dev.fuse4j.bench.peers.Peer;
import dev.fuse4j.bench.peers.PlainJavaPeer;
import dev.fuse4j.bench.peers.PreparedLayer;
import dev.fuse4j.spi.LinearShape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cross-check passes what is right and catches what is not. */
class CrossCheckTest {

    @Test
    void theScalarOracleAndThePlainPeerPass() {
        for (LinearShape s : CrossCheck.SHAPES) {
            CrossCheck.Result b = CrossCheck.run(Backends.get("cpu-scalar"), s, 0.5f);
            assertTrue(b.passed(), b.toString());
            CrossCheck.Result p = CrossCheck.runPeer(new PlainJavaPeer(), s, 0.5f);
            assertTrue(p.passed(), p.toString());
        }
    }

    @Test
    void aPeerThatIsSlightlyOffOrKeepsDroppedElementsFails() {
        LinearShape s = new LinearShape(17, 33, 65);
        CrossCheck.Result off = CrossCheck.runPeer(new Skewed(1e-3f, false), s, 0.5f);
        assertFalse(off.passed(), off.toString());
        assertTrue(off.forwardErrorRatio() > 1, off.toString());
        CrossCheck.Result unmasked = CrossCheck.runPeer(new Skewed(0f, true), s, 0.5f);
        assertFalse(unmasked.passed(), unmasked.toString());
        assertTrue(unmasked.maskDiffers() > 0, unmasked.toString());
    }

    @Test
    void aPeerThatThrowsFailsWithTheReason() {
        CrossCheck.Result r = CrossCheck.runPeer(new Skewed(Float.NaN, false), new LinearShape(2, 3, 4), 0.5f);
        assertFalse(r.passed());
        assertEquals("java.lang.IllegalStateException: broken on purpose", r.error());
    }

    /** The plain peer with {@code delta} added to every kept output, or with the mask ignored; NaN throws. */
    private record Skewed(float delta, boolean ignoreMask) implements Peer {
        @Override
        public String name() {
            return "skewed";
        }

        @Override
        public String unavailableReason() {
            return null;
        }

        @Override
        public String description() {
            return "wrong on purpose";
        }

        @Override
        public PreparedLayer prepare(LayerInputs in, Dropout d) {
            if (Float.isNaN(delta)) {
                throw new IllegalStateException("broken on purpose");
            }
            PreparedLayer plain = new PlainJavaPeer().prepare(in, ignoreMask ? Dropout.eval() : d);
            return new PreparedLayer() {
                @Override
                public void forward() {
                    plain.forward();
                }

                @Override
                public void backward() {
                    plain.backward();
                }

                @Override
                public float[] output() {
                    float[] y = plain.output();
                    for (int e = 0; e < y.length; e++) {
                        y[e] = y[e] != 0f ? y[e] + delta : 0f;
                    }
                    return y;
                }

                @Override
                public void close() {
                    plain.close();
                }
            };
        }
    }
}
