package dev.fuse4j.bench.peers;

import dev.fuse4j.Dropout;
import dev.fuse4j.spi.LinearShape;

/** The layer written the plain way in Java ({@link PlainLayer}): one thread, a dot product per output. */
public final class PlainJavaPeer implements Peer {
    @Override
    public String name() {
        return "plain-java";
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    @Override
    public String description() {
        return "plain Java loops, 1 thread";
    }

    @Override
    public PreparedLayer prepare(LayerInputs in, Dropout d) {
        LinearShape s = in.shape();
        return new HostLayer(() -> PlainLayer.forward(in.x(), in.w(), in.b(), s.n(), s.in(), s.out(), d),
                y -> PlainLayer.backward(in.x(), in.w(), in.dy(), y, s.n(), s.in(), s.out(), d));
    }
}
