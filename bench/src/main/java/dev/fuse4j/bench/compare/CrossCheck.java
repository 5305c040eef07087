package dev.fuse4j.bench.compare;

import dev.fuse4j.Activation;
import dev.fuse4j.Backend;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.Tensor;
import dev.fuse4j.bench.peers.LayerInputs;
import dev.fuse4j.bench.peers.Peer;
import dev.fuse4j.bench.peers.PreparedLayer;
import dev.fuse4j.reference.Reference;
import dev.fuse4j.spi.LinearShape;

import java.util.List;
import java.util.Random;

/**
 * Checks a backend against the float64 {@link Reference} on small shapes that break naive kernels: masks bit
 * for bit, and the largest error of y, dx, dw and db as a fraction of the contract's bound (≤ 1 passes). Peers get
 * the forward part, so a peer computing something else (a transposed GEMM) cannot win a race by it.
 */
final class CrossCheck {
    /** The smallest case, odd sizes one past a tile or vector width, and a long sum (K in the thousands). */
    static final List<LinearShape> SHAPES = List.of(new LinearShape(1, 1, 1), new LinearShape(17, 33, 65),
            new LinearShape(64, 129, 31), new LinearShape(5, 1500, 9));

    /**
     * One backend or peer at one shape: how many mask elements differ from the contract, and the largest error of
     * y and of dx, dw, db as a fraction of the bound. {@code error} is non-null when it threw instead. A peer's
     * backward is not checked ({@code backwardErrorRatio} NaN): its gradients stay inside it.
     */
    record Result(String backend, boolean peer, LinearShape shape, long maskDiffers, long maskElements,
                  double forwardErrorRatio, double backwardErrorRatio, String error) {
        boolean passed() {
            return error == null && maskDiffers == 0 && forwardErrorRatio <= 1 && (peer || backwardErrorRatio <= 1);
        }
    }

    private CrossCheck() {
    }

    /** Runs the check; a backend that throws fails it with the exception's message rather than ending the run. */
    static Result run(Backend be, LinearShape s, float p) {
        try {
            return check(be, s, p);
        } catch (RuntimeException e) {
            return new Result(be.name(), false, s, 0, (long) s.n() * s.out(), Double.NaN, Double.NaN, e.toString());
        }
    }

    /**
     * A peer's forward against the reference: in training with the contract's mask when the peer uses it
     * (elements it keeps that the mask drops count as mask differences), else in eval mode.
     */
    static Result runPeer(Peer peer, LinearShape s, float p) {
        int n = s.n(), in = s.in(), out = s.out();
        Random r = new Random(n * 7919L + in * 31L + out);
        float[] x = gaussian(r, n * in), w = gaussian(r, out * in), b = gaussian(r, out), dy = gaussian(r, n * out);
        Dropout d = peer.usesContractMask() ? Dropout.train(p, 20260101L, 7L) : Dropout.eval();
        float[] y;
        try (PreparedLayer layer = peer.prepare(new LayerInputs(s, x, w, b, dy), d)) {
            layer.forward();
            y = layer.output();
        } catch (RuntimeException e) {
            return new Result(peer.name(), true, s, 0, (long) n * out, Double.NaN, Double.NaN, e.toString());
        }
        Reference.Forward ref = Reference.forward(x, w, b, n, in, out, Activation.relu(), d);
        long differs = 0;
        for (int e = 0; e < y.length; e++) {
            if (!ref.keep()[e] && y[e] != 0f) {
                differs++;
            }
        }
        return new Result(peer.name(), true, s, differs, y.length, ref.y().worstRatio(y), Double.NaN, null);
    }

    private static Result check(Backend be, LinearShape s, float p) {
        int n = s.n(), in = s.in(), out = s.out();
        Random r = new Random(n * 7919L + in * 31L + out);
        float[] x = gaussian(r, n * in), w = gaussian(r, out * in), b = gaussian(r, out), dy = gaussian(r, n * out);
        Dropout d = Dropout.train(p, 20260101L, 7L);
        float[] y, dx, dw, db, mask;
        try (Tensor tx = be.tensor(x, n, in); Tensor tw = be.tensor(w, out, in); Tensor tb = be.tensor(b, out);
             Tensor ty = be.linearReluDropout(tx, tw, tb, d); Tensor tdy = be.tensor(dy, n, out);
             LinearGrads g = be.linearReluDropoutBackward(tdy, tx, tw, ty, d);
             Tensor tm = be.dropoutMask(n, out, d)) {
            y = ty.toArray();
            dx = g.dx().toArray();
            dw = g.dw().toArray();
            db = g.db().toArray();
            mask = tm.toArray();
        }
        Reference.Forward ref = Reference.forward(x, w, b, n, in, out, Activation.relu(), d);
        long differs = 0;
        for (int e = 0; e < mask.length; e++) {
            if (mask[e] != (ref.keep()[e] ? 1f : 0f)) {
                differs++;
            }
        }
        // Backward is judged from the backend's own y, as the contract defines dz.
        Reference.Backward grads = Reference.backward(dy, x, w, y, null, ref.keep(), n, in, out, Activation.relu(), d);
        double bwd = Math.max(grads.dx().worstRatio(dx), Math.max(grads.dw().worstRatio(dw),
                grads.db().worstRatio(db)));
        return new Result(be.name(), false, s, differs, mask.length, ref.y().worstRatio(y), bwd, null);
    }

    private static float[] gaussian(Random r, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
