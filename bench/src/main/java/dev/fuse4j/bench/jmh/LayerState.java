package dev.fuse4j.bench.jmh;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Backends;
import dev.fuse4j.Dropout;
import dev.fuse4j.Tensor;
import dev.fuse4j.bench.StandardShapes;
import dev.fuse4j.spi.LinearShape;

import java.util.Random;

/**
 * Inputs of one fused layer on one backend, made once per trial. Shapes are the foundation issue's five (the
 * {@code shape} parameter takes {@code NxINxOUT}); {@code backend} takes any name {@link Backends#get} knows.
 */
final class LayerState implements AutoCloseable {
    final LinearShape shape;
    final Backend backend;
    final float[] x;
    final float[] w;
    final float[] b;
    final float[] dy;
    final Tensor tx;
    final Tensor tw;
    final Tensor tb;
    final Tensor tdy;
    final Tensor ty;
    final Dropout dropout;

    LayerState(String backendName, String shapeText, float p) {
        this.shape = StandardShapes.parse(shapeText);
        try {
            this.backend = Backends.get(backendName);
        } catch (BackendUnavailableException e) {
            throw new IllegalStateException("backend " + backendName + " cannot run here: " + e.getMessage(), e);
        }
        Random r = new Random(42);
        x = gaussian(r, shape.n() * shape.in());
        w = gaussian(r, shape.out() * shape.in());
        b = gaussian(r, shape.out());
        dy = gaussian(r, shape.n() * shape.out());
        dropout = Dropout.train(p, 1234L, 0L);
        tx = backend.tensor(x, shape.n(), shape.in());
        tw = backend.tensor(w, shape.out(), shape.in());
        tb = backend.tensor(b, shape.out());
        tdy = backend.tensor(dy, shape.n(), shape.out());
        ty = backend.linearReluDropout(tx, tw, tb, dropout);
    }

    private static float[] gaussian(Random r, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = (float) (r.nextGaussian() * 0.1);
        }
        return a;
    }

    @Override
    public void close() {
        ty.close();
        tdy.close();
        tb.close();
        tw.close();
        tx.close();
    }
}
