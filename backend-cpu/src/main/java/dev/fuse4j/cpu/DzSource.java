package dev.fuse4j.cpu;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import static dev.fuse4j.cpu.PackedGemm.L;
import static dev.fuse4j.cpu.PackedGemm.S;

/**
 * Forms {@code dz} of the backward pass on demand, a row segment at a time, so it is never stored whole: from the
 * sign of {@code y} for ReLU and leaky ReLU, from the regenerated Philox mask (and {@code z}) for GELU and
 * identity. Safe for concurrent use: per-thread scratch lives in thread locals.
 */
final class DzSource {
    private final float[] dy;
    private final float[] y;
    private final float[] z;
    private final int out;
    private final Activation.Kind act;
    private final float alpha;
    private final float scale;
    private final Dropout dropout;
    private final boolean needsMask;
    private final ThreadLocal<Scratch> scratch;

    private static final class Scratch {
        float[] buffer = new float[0];
        boolean[] keep = new boolean[0];
        final VectorPhilox philox;

        Scratch(Dropout d) {
            philox = d.training() ? new VectorPhilox(d) : null;
        }
    }

    DzSource(float[] dy, float[] y, float[] z, int out, Activation act, Dropout d) {
        this.dy = dy;
        this.y = y;
        this.z = z;
        this.out = out;
        this.act = act.kind();
        this.alpha = act.alpha();
        this.scale = d.scale();
        this.dropout = d;
        this.needsMask = act.kind() == Activation.Kind.GELU || act.kind() == Activation.Kind.IDENTITY;
        this.scratch = ThreadLocal.withInitial(() -> new Scratch(d));
    }

    /** A per-thread buffer of at least {@code len} floats for {@link #row}. */
    float[] buffer(int len) {
        Scratch s = scratch.get();
        if (s.buffer.length < len) {
            s.buffer = new float[len];
        }
        return s.buffer;
    }

    /** dz of row {@code i}, columns {@code j0 .. j0+len-1}, into {@code dst[0 .. len)}. */
    void row(int i, int j0, int len, float[] dst) {
        int at = i * out + j0;
        if (!needsMask) {
            int c = 0;
            for (; c <= len - L; c += L) {
                FloatVector yv = FloatVector.fromArray(S, y, at + c);
                FloatVector g = FloatVector.fromArray(S, dy, at + c).mul(scale);
                VectorMask<Float> pos = yv.compare(VectorOperators.GT, 0f);
                FloatVector r = act == Activation.Kind.RELU ? FloatVector.zero(S).blend(g, pos)
                        : g.mul(alpha).blend(g, pos).blend(0f, yv.compare(VectorOperators.EQ, 0f));
                r.intoArray(dst, c);
            }
            for (; c < len; c++) {
                dst[c] = Epilogue.dz(act, alpha, scale, dy[at + c], y[at + c], 0f, true);
            }
            return;
        }
        Scratch s = scratch.get();
        if (s.keep.length < len) {
            s.keep = new boolean[len];
        }
        boolean training = dropout.training();
        if (training) {
            s.philox.keepRun(at, len, s.keep, 0);
        }
        for (int c = 0; c < len; c++) {
            dst[c] = Epilogue.dz(act, alpha, scale, dy[at + c], y[at + c], z == null ? 0f : z[at + c],
                    !training || s.keep[c]);
        }
    }
}
