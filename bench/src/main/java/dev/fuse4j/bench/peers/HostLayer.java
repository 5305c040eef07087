package dev.fuse4j.bench.peers;

import java.util.function.Consumer;
import java.util.function.Supplier;

/** A peer's layer that computes on host arrays: forward makes {@code y}, backward reads the last one. */
final class HostLayer implements PreparedLayer {
    private final Supplier<float[]> forward;
    private final Consumer<float[]> backward;
    private float[] y;

    /**
     * @param forward  computes {@code y}
     * @param backward computes the gradients from {@code y} and discards them
     */
    HostLayer(Supplier<float[]> forward, Consumer<float[]> backward) {
        this.forward = forward;
        this.backward = backward;
    }

    @Override
    public void forward() {
        y = forward.get();
    }

    @Override
    public void backward() {
        if (y == null) {
            forward();
        }
        backward.accept(y);
    }

    @Override
    public float[] output() {
        return y.clone();
    }

    @Override
    public void close() {
        y = null;
    }
}
