package dev.fuse4j.reference;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.Philox;

import java.util.Arrays;

/**
 * DropConnect's layer {@code y = act(x·(W ⊙ M)ᵀ·s + b)} and its backward in float64, with {@code W ⊙ M} formed
 * explicitly (which the backends never do) and the bound each float32 result must meet. As {@link Reference}, it
 * takes nothing from the code it judges: the weight mask comes from the bare Philox generator with the weight
 * stream's counter layout written out here, the scale {@code s = 1/(1 − p)} from p.
 */
public final class DropConnectReference {
    /** The weight stream's bit in the counter's second word, as docs/DESIGN.md lays it out. */
    private static final int WEIGHT_STREAM_BIT = 1 << 31;

    private DropConnectReference() {
    }

    /**
     * The mask of a {@code [out, in]} weight, element by element: element {@code k = o·in + c} is word {@code k mod 4}
     * of Philox4x32-10 on counter {@code (lo32(k/4), hi32(k/4) | 2³¹, lo32(offset), hi32(offset))} under key
     * {@code (lo32(seed), hi32(seed))}, kept when that word, unsigned, is at least {@code floor(p·2³²)}. Everything
     * is kept unless {@code d} is DropConnect.
     */
    public static boolean[] weightMask(int out, int in, Dropout d) {
        boolean[] keep = new boolean[out * in];
        if (!d.dropConnect()) {
            Arrays.fill(keep, true);
            return keep;
        }
        long threshold = Reference.threshold(d);
        int[] key = {(int) d.seed(), (int) (d.seed() >>> 32)};
        for (int k = 0; k < keep.length; k++) {
            long block = k >>> 2;
            int[] counter = {(int) block, (int) (block >>> 32) | WEIGHT_STREAM_BIT, (int) d.offset(),
                (int) (d.offset() >>> 32)};
            int word = Philox.philox4x32_10(counter, key)[k & 3];
            keep[k] = (word & 0xFFFFFFFFL) >= threshold;
        }
        return keep;
    }

    /** {@code W ⊙ M · s} in float64: the weights a DropConnect call multiplies by. */
    public static double[] maskedWeights(float[] w, int out, int in, Dropout d) {
        boolean[] keep = weightMask(out, in, d);
        double s = Reference.scale(d);
        double[] m = new double[w.length];
        for (int k = 0; k < m.length; k++) {
            m[k] = keep[k] ? w[k] * s : 0.0;
        }
        return m;
    }

    /**
     * The forward: {@code z = b + Σ_k x·(W ⊙ M)·s} within the bound of a sum of {@code in + 1} terms of magnitude
     * {@code |b| + Σ_k |x·(W ⊙ M)·s|}, and {@code y = act(z)} with no output mask (every element kept); PReLU's
     * column j takes the slope {@code slope[j]} ({@code slope} is read only for PReLU).
     */
    public static Reference.Forward forward(float[] x, float[] w, float[] b, int n, int in, int out, Activation act,
                                            Dropout d, float[] slope) {
        boolean prelu = act.kind() == Activation.Kind.PRELU;
        double[] wm = maskedWeights(w, out, in, d);
        double[] z = new double[n * out];
        double[] zBound = new double[n * out];
        double[] y = new double[n * out];
        double[] yBound = new double[n * out];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                double sum = b[j];
                double mag = Math.abs(b[j]);
                for (int k = 0; k < in; k++) {
                    double t = x[i * in + k] * wm[j * in + k];
                    sum += t;
                    mag += Math.abs(t);
                }
                int e = i * out + j;
                z[e] = sum;
                zBound[e] = Reference.bound(in, mag, 1);
                y[e] = prelu ? Reference.prelu(slope[j], sum) : Reference.activation(act, sum);
                yBound[e] = prelu ? Reference.preluOutputBound(slope[j], zBound[e], 1)
                        : Reference.outputBound(act, zBound[e], sum, 1);
            }
        }
        boolean[] keep = new boolean[n * out];
        Arrays.fill(keep, true);
        return new Reference.Forward(new Expected(z, zBound), new Expected(y, yBound), keep);
    }

    /**
     * The backward from the backend's own {@code y} and {@code z}: {@code dz} as without dropout,
     * {@code dx = dz·(W ⊙ M)·s}, {@code dw = (dzᵀ·X) ⊙ M·s} (a dropped weight's gradient exactly 0),
     * {@code db = Σ_i dz}, each within the bound of its sum; for PReLU (column j's slope {@code slope[j]}) also the
     * slope gradient, from every element as no output is dropped.
     */
    public static Reference.Backward backward(float[] dy, float[] x, float[] w, float[] y, float[] z, int n, int in,
                                              int out, Activation act, Dropout d, float[] slope) {
        boolean[] all = new boolean[n * out];
        Arrays.fill(all, true);
        double[] dz = Reference.dz(dy, y, z, all, act, Dropout.eval(), slope);
        double[] slack = new double[dz.length];
        double relative = Reference.derivativeSlack(act);
        for (int e = 0; e < dz.length; e++) {
            slack[e] = relative * Math.abs(dy[e]);
        }
        double[] ones = new double[n];
        Arrays.fill(ones, 1.0);
        Expected dx = Reference.product(dz, slack, false, n, out, maskedWeights(w, out, in, d), in);
        Expected dwUnmasked = Reference.product(dz, slack, true, out, n, Reference.widen(x), in);
        boolean[] keep = weightMask(out, in, d);
        double s = Reference.scale(d);
        double[] dw = new double[out * in];
        double[] dwBound = new double[out * in];
        for (int k = 0; k < dw.length; k++) {
            if (keep[k]) {
                dw[k] = dwUnmasked.value()[k] * s;
                dwBound[k] = dwUnmasked.bound()[k] * s;
            }
        }
        return new Reference.Backward(dx, new Expected(dw, dwBound),
                Reference.product(dz, slack, true, out, n, ones, 1), act.kind() == Activation.Kind.PRELU
                        ? Reference.slopeGradient(dy, z, all, n, out, Dropout.eval()) : null);
    }
}
