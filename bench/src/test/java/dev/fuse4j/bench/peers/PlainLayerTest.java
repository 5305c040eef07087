package dev.fuse4j.bench.peers;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.contract.Required;
import dev.fuse4j.reference.Reference;
import dev.fuse4j.spi.LinearShape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The float32 layer the plain-Java and OpenBLAS peers share, forward and backward, against the float64 reference
 * (compare's cross-check judges only a peer's forward).
 */
class PlainLayerTest {
    private static final LinearShape SHAPE = new LinearShape(9, 37, 13);
    private static final Dropout D = Dropout.train(0.3f, 5L, 6L);

    @Test
    void forwardAndBackwardMatchTheReference() {
        LayerInputs in = LayerInputs.random(SHAPE, 3L);
        int n = SHAPE.n(), k = SHAPE.in(), out = SHAPE.out();
        float[] y = PlainLayer.forward(in.x(), in.w(), in.b(), n, k, out, D);
        Reference.Forward f = Reference.forward(in.x(), in.w(), in.b(), n, k, out, Activation.relu(), D);
        assertTrue(f.y().worstRatio(y) <= 1, "y error " + f.y().worstRatio(y) + " of the bound");
        float[][] g = PlainLayer.backward(in.x(), in.w(), in.dy(), y, n, k, out, D);
        Reference.Backward r = Reference.backward(in.dy(), in.x(), in.w(), y, null, f.keep(), n, k, out,
                Activation.relu(), D);
        assertTrue(r.dx().worstRatio(g[0]) <= 1, "dx error " + r.dx().worstRatio(g[0]) + " of the bound");
        assertTrue(r.dw().worstRatio(g[1]) <= 1, "dw error " + r.dw().worstRatio(g[1]) + " of the bound");
        assertTrue(r.db().worstRatio(g[2]) <= 1, "db error " + r.db().worstRatio(g[2]) + " of the bound");
    }

    /** OpenBLAS's SGEMMs inside the shared epilogue, where a native BLAS is installed. */
    @Test
    void theOpenBlasPeerMatchesTheReference() {
        OpenBlasPeer blas = new OpenBlasPeer();
        Required.assume("openblas", blas.unavailableReason() == null, "OpenBLAS peer: " + blas.unavailableReason());
        LayerInputs in = LayerInputs.random(SHAPE, 4L);
        float[] y;
        try (PreparedLayer layer = blas.prepare(in, D)) {
            layer.forward();
            layer.backward();
            y = layer.output();
        }
        Reference.Forward f = Reference.forward(in.x(), in.w(), in.b(), SHAPE.n(), SHAPE.in(), SHAPE.out(),
                Activation.relu(), D);
        assertTrue(f.y().worstRatio(y) <= 1, "OpenBLAS y error " + f.y().worstRatio(y) + " of the bound");
    }
}
