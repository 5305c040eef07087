package dev.fuse4j.bench.peers;

import dev.fuse4j.Dropout;
import dev.fuse4j.bench.PlainJavaLayer;
import dev.fuse4j.bench.StandardShapes.Shape;

/** The layer written the plain way in Java ({@link PlainJavaLayer}): one thread, a dot product per output. */
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
        return new PreparedLayer() {
            private float[] y;

            @Override
            public void forward() {
                Shape s = in.shape();
                y = PlainJavaLayer.forward(in.x(), in.w(), in.b(), s.n(), s.in(), s.out(), d);
            }

            @Override
            public void backward() {
                if (y == null) {
                    forward();
                }
                backwardOf(in, y, d);
            }

            @Override
            public float[] output() {
                return y.clone();
            }

            @Override
            public void close() {
                y = null;
            }
        };
    }

    /**
     * {@code {dx, dw, db}} the plain way. It does not skip the zero entries of {@code dz}: that would do a quarter
     * of the work at p = 0.5 while the table counts all of it, and inflate this peer's GFLOP/s fourfold.
     */
    static float[][] backwardOf(LayerInputs in, float[] y, Dropout d) {
        Shape s = in.shape();
        int n = s.n(), cin = s.in(), out = s.out();
        float[] x = in.x(), w = in.w(), dy = in.dy();
        float scale = d.scale();
        float[] dx = new float[n * cin], dw = new float[out * cin], db = new float[out];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                float dz = y[i * out + j] > 0f ? dy[i * out + j] * scale : 0f;
                db[j] += dz;
                for (int k = 0; k < cin; k++) {
                    dx[i * cin + k] += dz * w[j * cin + k];
                    dw[j * cin + k] += dz * x[i * cin + k];
                }
            }
        }
        return new float[][] {dx, dw, db};
    }
}
