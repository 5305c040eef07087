package dev.fuse4j.bench.peers;

import dev.fuse4j.spi.LinearShape;

import java.util.Arrays;
import java.util.Random;

/**
 * Host inputs of one fused layer: {@code x [n, in]}, {@code w [out, in]}, {@code b [out]} and the upstream gradient
 * {@code dy [n, out]}, row-major float32. Every backend and peer of one run gets the same ones, so their outputs
 * are comparable.
 */
public record LayerInputs(LinearShape shape, float[] x, float[] w, float[] b, float[] dy) {

    public LayerInputs {
        int n = shape.n(), in = shape.in(), out = shape.out();
        if (x.length != n * in || w.length != out * in || b.length != out || dy.length != n * out) {
            throw new IllegalArgumentException("inputs of lengths x " + x.length + ", w " + w.length + ", b "
                    + b.length + ", dy " + dy.length + " do not match shape " + shape);
        }
    }

    /**
     * Gaussian inputs scaled as a freshly initialised layer would be ({@code w ~ N(0, 1/in)}), so that about half
     * of the pre-activations are positive and the ReLU and the mask both matter.
     */
    public static LayerInputs random(LinearShape s, long seed) {
        Random r = new Random(seed);
        float[] x = gaussian(r, s.n() * s.in(), 1);
        float[] w = gaussian(r, s.out() * s.in(), 1 / Math.sqrt(s.in()));
        float[] b = gaussian(r, s.out(), 0.1);
        float[] dy = gaussian(r, s.n() * s.out(), 1);
        return new LayerInputs(s, x, w, b, dy);
    }

    /**
     * The first {@code rows} rows of the batch with the same weights: a slower peer is timed on fewer rows when
     * the whole batch would not fit the time budget, which keeps its per-row cost and so its GFLOP/s.
     */
    public LayerInputs firstRows(int rows) {
        if (rows < 1 || rows > shape.n()) {
            throw new IllegalArgumentException("rows must be in [1, " + shape.n() + "] but is " + rows);
        }
        if (rows == shape.n()) {
            return this;
        }
        LinearShape s = new LinearShape(rows, shape.in(), shape.out());
        return new LayerInputs(s, Arrays.copyOf(x, rows * shape.in()), w, b, Arrays.copyOf(dy, rows * shape.out()));
    }

    private static float[] gaussian(Random r, int len, double sd) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = (float) (r.nextGaussian() * sd);
        }
        return a;
    }
}
