package dev.fuse4j.opencl;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Backends;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.Tensor;
import dev.fuse4j.contract.Required;
import dev.fuse4j.reference.Expected;
import dev.fuse4j.reference.Reference;
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
            Required.missing("opencl", e.getMessage());
            return;
        }
        for (Activation act : new Activation[] {Activation.relu(), Activation.identity()}) {
            check(b, 5000, 4, 3, act, Dropout.train(0.5f, 11, 3));
            check(b, 5000, 9, 6, act, Dropout.train(0.5f, 12, 4));
        }
    }

    /** dx, dw and db against float64, with the mask from the Philox contract rather than the backend's own. */
    private static void check(Backend b, int n, int in, int out, Activation act, Dropout d) {
        Random r = new Random(7);
        float[] x = random(r, n * in);
        float[] w = random(r, out * in);
        float[] bias = random(r, out);
        float[] dy = random(r, n * out);
        float[] y, dx, dw, db;
        try (Tensor tx = b.tensor(x, n, in); Tensor tw = b.tensor(w, out, in); Tensor tb = b.tensor(bias, out);
             Tensor tdy = b.tensor(dy, n, out); Tensor ty = b.linear(tx, tw, tb, act, d, null);
             LinearGrads g = b.linearBackward(tdy, tx, tw, ty, null, act, d)) {
            y = ty.toArray();
            dx = g.dx().toArray();
            dw = g.dw().toArray();
            db = g.db().toArray();
        }
        Reference.Backward ref = Reference.backward(dy, x, w, y, null, Reference.mask(n, out, d), n, in, out, act, d);
        String where = act + ", " + d + ", " + n + "x" + in + "->" + out;
        within("dx", ref.dx(), dx, in, where);
        within("dw", ref.dw(), dw, in, where);
        within("db", ref.db(), db, out, where);
    }

    private static void within(String name, Expected want, float[] got, int cols, String where) {
        int e = want.firstViolation(got);
        assertTrue(e < 0, () -> name + "[" + e / cols + "][" + e % cols + "] = " + got[e] + " but float64 gives "
                + want.value()[e] + " (bound " + want.bound()[e] + ", " + where + ")");
    }

    private static float[] random(Random r, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = r.nextFloat() * 2 - 1;
        }
        return a;
    }
}
