package dev.fuse4j.bench;

import dev.fuse4j.Dropout;
import dev.fuse4j.PhiloxMask;

/**
 * The peer "written the plain way in Java": the layer as most JVM code would write it, a dot product per output
 * element on one thread, then ReLU and dropout, with the same Philox mask so its output can be cross-checked.
 */
public final class PlainJavaLayer {
    private PlainJavaLayer() {
    }

    /** {@code y = dropout(relu(x·wᵀ + b))} into a new array. */
    public static float[] forward(float[] x, float[] w, float[] b, int n, int in, int out, Dropout d) {
        float[] y = new float[n * out];
        float scale = d.scale();
        PhiloxMask mask = new PhiloxMask(d);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                float acc = b[j];
                for (int k = 0; k < in; k++) {
                    acc += x[i * in + k] * w[j * in + k];
                }
                long e = (long) i * out + j;
                y[i * out + j] = mask.keep(e) && acc > 0f ? acc * scale : 0f;
            }
        }
        return y;
    }
}
