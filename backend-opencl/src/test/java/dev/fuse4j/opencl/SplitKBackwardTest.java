package dev.fuse4j.opencl;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Backends;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Backward of a batch tall enough, with outputs small enough, that the dw launch splits K even on a 2-compute-unit
 * CPU device (a 3×4 dw is one tile; PoCL then gets 4 slices of 1280 rows), so the split and the slice sums
 * are tested wherever the suite runs.
 */
class SplitKBackwardTest {

    @Test
    void tallBatchGradientsMatchFloat64() {
        Backend b;
        try {
            b = Backends.get("opencl");
        } catch (BackendUnavailableException e) {
            Assumptions.abort(e.getMessage());
            return;
        }
        for (Activation act : new Activation[] {Activation.relu(), Activation.identity()}) {
            check(b, 5000, 4, 3, act, Dropout.train(0.5f, 11, 3));
            check(b, 5000, 9, 6, act, Dropout.train(0.5f, 12, 4));
        }
    }

    private static void check(Backend b, int n, int in, int out, Activation act, Dropout d) {
        Random r = new Random(7);
        float[] x = random(r, n * in);
        float[] w = random(r, out * in);
        float[] bias = random(r, out);
        float[] dy = random(r, n * out);
        try (Tensor tx = b.tensor(x, n, in); Tensor tw = b.tensor(w, out, in); Tensor tb = b.tensor(bias, out);
             Tensor tdy = b.tensor(dy, n, out); Tensor ty = b.linear(tx, tw, tb, act, d, null);
             Tensor tm = b.dropoutMask(n, out, d); LinearGrads g = b.linearBackward(tdy, tx, tw, ty, null, act, d)) {
            float[] y = ty.toArray();
            float[] mask = tm.toArray();
            double[] dz = new double[n * out];
            for (int e = 0; e < dz.length; e++) {
                boolean kept = act.kind() == Activation.Kind.RELU ? y[e] > 0 : mask[e] == 1f;
                dz[e] = kept ? dy[e] * (double) d.scale() : 0;
            }
            float[] dw = g.dw().toArray();
            float[] db = g.db().toArray();
            for (int j = 0; j < out; j++) {
                double sum = 0;
                double mag = 0;
                for (int i = 0; i < n; i++) {
                    sum += dz[i * out + j];
                    mag += Math.abs(dz[i * out + j]);
                }
                near(db[j], sum, mag, n, "db[" + j + "] " + act);
                for (int k = 0; k < in; k++) {
                    double s = 0;
                    double m = 0;
                    for (int i = 0; i < n; i++) {
                        s += dz[i * out + j] * x[i * in + k];
                        m += Math.abs(dz[i * out + j] * x[i * in + k]);
                    }
                    near(dw[j * in + k], s, m, n, "dw[" + j + "][" + k + "] " + act);
                }
            }
        }
    }

    /** The DESIGN.md bound: 2·K·2⁻²⁴·Σ|terms|. */
    private static void near(float got, double want, double magnitude, int k, String what) {
        double bound = 2.0 * k * Math.scalb(1.0, -24) * magnitude;
        assertTrue(Math.abs(got - want) <= bound, what + " = " + got + " but float64 gives " + want + " (bound "
                + bound + ")");
    }

    private static float[] random(Random r, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = r.nextFloat() * 2 - 1;
        }
        return a;
    }
}
