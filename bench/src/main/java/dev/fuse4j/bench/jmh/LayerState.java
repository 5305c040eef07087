package dev.fuse4j.bench.jmh;

import dev.fuse4j.Backends;
import dev.fuse4j.Dropout;
import dev.fuse4j.bench.peers.BackendLayer;
import dev.fuse4j.bench.peers.LayerInputs;
import dev.fuse4j.bench.peers.StandardShapes;
import dev.fuse4j.spi.LinearShape;

/**
 * One fused layer on one backend, made once per trial from the inputs and dropout compare uses, with a forward
 * output already made so backward can be timed alone. {@code shape} takes {@code NxINxOUT}; {@code backend} any
 * name {@link Backends#get} knows.
 */
final class LayerState implements AutoCloseable {
    /** The inputs' seed and the dropout of every timed call, as in compare. */
    static final long INPUT_SEED = 42L;
    static final long DROPOUT_SEED = 1234L;

    final LinearShape shape;
    final BackendLayer layer;

    LayerState(String backendName, String shapeText, float p) {
        this.shape = StandardShapes.parse(shapeText);
        this.layer = new BackendLayer(TrialBackend.open(backendName), LayerInputs.random(shape, INPUT_SEED),
                Dropout.train(p, DROPOUT_SEED, 0L));
        layer.forward();
    }

    @Override
    public void close() {
        layer.close();
    }
}
