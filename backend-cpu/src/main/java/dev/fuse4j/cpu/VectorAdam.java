package dev.fuse4j.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.fuse4j.cpu.Tuning.L;
import static dev.fuse4j.cpu.Tuning.S;

/**
 * {@link AdamUpdate} in vectors: the same operations per element in the same order, lane by lane. C2 did not vectorise
 * the scalar loop (two divisions and a square root per element), which still took 26–34 % of the default MLP's training
 * step once subnormals were flushed (docs/performance.md, "Subnormal Adam moments, and Adam in vectors").
 */
final class VectorAdam {
    private VectorAdam() {
    }

    /** Updates elements {@code [from, to)} of {@code u}'s arrays in vectors, the tail one at a time. */
    static void run(AdamUpdate u, int from, int to) {
        float a1 = 1 - u.beta1;
        float a2 = 1 - u.beta2;
        int i = from;
        for (int end = from + S.loopBound(to - from); i < end; i += L) {
            FloatVector pi = FloatVector.fromArray(S, u.p, i);
            FloatVector gi = FloatVector.fromArray(S, u.g, i).add(pi.mul(u.wd));
            FloatVector mi = FloatVector.fromArray(S, u.m, i).mul(u.beta1).add(gi.mul(a1));
            FloatVector vi = FloatVector.fromArray(S, u.v, i).mul(u.beta2).add(gi.mul(a2).mul(gi));
            mi = mi.blend(0f, mi.lanewise(VectorOperators.ABS).lt(Float.MIN_NORMAL));
            vi = vi.blend(0f, vi.lt(Float.MIN_NORMAL));
            mi.intoArray(u.m, i);
            vi.intoArray(u.v, i);
            FloatVector step = mi.div(u.c1).mul(u.lr).div(vi.div(u.c2).sqrt().add(u.eps));
            pi.sub(step).intoArray(u.p, i);
        }
        u.scalar(i, to);
    }
}
