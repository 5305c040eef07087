package dev.fuse4j.bench.peers;

import dev.fuse4j.Backend;
import dev.fuse4j.Dropout;
import dev.fuse4j.Tensor;
import dev.fuse4j.spi.LinearShape;

/**
 * A Fuse4J backend's fused layer as a {@link PreparedLayer}: inputs uploaded once, each call makes its output on
 * the device and frees the previous one, so backends and peers are timed the same way.
 */
public final class BackendLayer implements PreparedLayer {
    private final Backend backend;
    private final Dropout d;
    private final Tensor x;
    private final Tensor w;
    private final Tensor b;
    private final Tensor dy;
    private Tensor y;

    public BackendLayer(Backend backend, LayerInputs in, Dropout d) {
        this.backend = backend;
        this.d = d;
        LinearShape s = in.shape();
        Tensor tx = null, tw = null, tb = null;
        try {
            tx = backend.tensor(in.x(), s.n(), s.in());
            tw = backend.tensor(in.w(), s.out(), s.in());
            tb = backend.tensor(in.b(), s.out());
            this.dy = backend.tensor(in.dy(), s.n(), s.out());
        } catch (RuntimeException e) {
            for (Tensor t : new Tensor[] {tx, tw, tb}) {
                if (t != null) {
                    t.close();
                }
            }
            throw e;
        }
        this.x = tx;
        this.w = tw;
        this.b = tb;
    }

    @Override
    public void forward() {
        Tensor next = backend.linearReluDropout(x, w, b, d);
        if (y != null) {
            y.close();
        }
        y = next;
        backend.synchronize(); // a GPU backend's call returns once queued: the time is the work's
    }

    @Override
    public void backward() {
        if (y == null) {
            forward();
        }
        backend.linearReluDropoutBackward(dy, x, w, y, d).close();
        backend.synchronize();
    }

    @Override
    public float[] output() {
        return y.toArray();
    }

    @Override
    public void close() {
        for (Tensor t : new Tensor[] {y, dy, b, w, x}) {
            if (t != null) {
                t.close();
            }
        }
        y = null;
    }
}
