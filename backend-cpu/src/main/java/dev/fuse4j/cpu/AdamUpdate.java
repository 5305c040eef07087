package dev.fuse4j.cpu;

/**
 * One Adam step of a parameter, a range of its elements at a time: in plain loops here ({@link #scalar}), in
 * vectors on the Vector API path ({@link VectorAdam}), which computes each element with the same operations in the
 * same order and so gives the same bits (a lane's add, multiply, divide and square root round as the scalar ones
 * do, and a float's square root taken in double and rounded is the float's own). No Vector API class is named here:
 * the scalar backend uses this class where that module is absent.
 *
 * <p>A moment that falls below the smallest normal float is stored as 0. Where a weight's gradient stays 0 (a ReLU
 * unit that no longer fires), {@code m} shrinks by {@code beta1} a step and is subnormal after about 650 steps; on an
 * Intel Xeon every operation on a subnormal takes a microcode assist, and the default MLP's training step fell from
 * about 250 to 100–140 steps a second once they appeared (docs/performance.md, "Subnormal Adam moments, and Adam in
 * vectors"). Java cannot set the CPU's flush-to-zero mode, so the update flushes them itself. What it drops is below
 * 1.2e-38 per moment: with m it takes at most lr·1.2e-38 / ((1 − beta1^step)·eps) from a weight's step, and with v
 * it moves the step's denominator, at least eps, by at most sqrt(1.2e-38 / (1 − beta2^step)).
 */
final class AdamUpdate {
    final float[] p;
    final float[] g;
    final float[] m;
    final float[] v;
    final float lr;
    final float beta1;
    final float beta2;
    final float eps;
    final float wd;
    final float c1;
    final float c2;

    /** Adam's step {@code step} (from 1) of {@code p} from gradient {@code g} and moments {@code m}, {@code v}. */
    AdamUpdate(float[] p, float[] g, float[] m, float[] v, float lr, float beta1, float beta2, float eps, float wd,
               long step) {
        this.p = p;
        this.g = g;
        this.m = m;
        this.v = v;
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.wd = wd;
        this.c1 = (float) (1 - Math.pow(beta1, step));
        this.c2 = (float) (1 - Math.pow(beta2, step));
    }

    /** Updates elements {@code [from, to)} one at a time. */
    void scalar(int from, int to) {
        for (int i = from; i < to; i++) {
            float gi = g[i] + wd * p[i];
            float mi = beta1 * m[i] + (1 - beta1) * gi;
            float vi = beta2 * v[i] + (1 - beta2) * gi * gi;
            mi = Math.abs(mi) < Float.MIN_NORMAL ? 0f : mi;
            vi = vi < Float.MIN_NORMAL ? 0f : vi;
            m[i] = mi;
            v[i] = vi;
            float mh = mi / c1;
            float vh = vi / c2;
            p[i] -= lr * mh / ((float) Math.sqrt(vh) + eps);
        }
    }
}
