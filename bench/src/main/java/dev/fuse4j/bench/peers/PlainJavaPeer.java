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
    public float[] forward(float[] x, float[] w, float[] b, Shape s, Dropout d) {
        return PlainJavaLayer.forward(x, w, b, s.n(), s.in(), s.out(), d);
    }

    @Override
    public float[][] backward(float[] dy, float[] x, float[] w, float[] y, Shape s, Dropout d) {
        int n = s.n(), in = s.in(), out = s.out();
        float scale = d.scale();
        float[] dx = new float[n * in], dw = new float[out * in], db = new float[out];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                float dz = y[i * out + j] > 0f ? dy[i * out + j] * scale : 0f;
                if (dz == 0f) {
                    continue;
                }
                db[j] += dz;
                for (int k = 0; k < in; k++) {
                    dx[i * in + k] += dz * w[j * in + k];
                    dw[j * in + k] += dz * x[i * in + k];
                }
            }
        }
        return new float[][] {dx, dw, db};
    }
}
