package dev.fuse4j.bench.compare;

import dev.fuse4j.Backend;
import dev.fuse4j.Dropout;
import dev.fuse4j.LinearGrads;
import dev.fuse4j.Philox;
import dev.fuse4j.Tensor;
import dev.fuse4j.bench.StandardShapes.Shape;
import dev.fuse4j.bench.peers.LayerInputs;
import dev.fuse4j.bench.peers.Peer;
import dev.fuse4j.bench.peers.PreparedLayer;

import java.util.List;
import java.util.Random;

/**
 * Checks a backend against the float64 reference of DESIGN.md on small shapes that break naive kernels: masks bit
 * for bit, and the largest error of y, dx, dw and db as a fraction of the contract's bound (≤ 1 passes). Peers get
 * the forward part, so a peer computing something else (a transposed GEMM) cannot win a race by it.
 */
final class CrossCheck {
    /** The smallest case, odd sizes one past a tile or vector width, and a long sum (K in the thousands). */
    static final List<Shape> SHAPES = List.of(new Shape(1, 1, 1), new Shape(17, 33, 65), new Shape(64, 129, 31),
            new Shape(5, 1500, 9));
    private static final double U = 0x1p-24;

    /**
     * One backend or peer at one shape: how many mask elements differ from the contract, and the largest error of
     * y and of dx, dw, db as a fraction of the bound. {@code error} is non-null when it threw instead. A peer's
     * backward is not checked ({@code backwardErrorRatio} NaN): its gradients stay inside it.
     */
    record Result(String backend, boolean peer, Shape shape, long maskDiffers, long maskElements,
                  double forwardErrorRatio, double backwardErrorRatio, String error) {
        boolean passed() {
            return error == null && maskDiffers == 0 && forwardErrorRatio <= 1 && (peer || backwardErrorRatio <= 1);
        }
    }

    private CrossCheck() {
    }

    /** Runs the check; a backend that throws fails it with the exception's message rather than ending the run. */
    static Result run(Backend be, Shape s, float p) {
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
    static Result runPeer(Peer peer, Shape s, float p) {
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
        boolean[] keep = mask(n * out, d);
        long differs = 0;
        for (int e = 0; e < keep.length; e++) {
            if (!keep[e] && y[e] != 0f) {
                differs++;
            }
        }
        return new Result(peer.name(), true, s, differs, keep.length, forwardError(x, w, b, y, keep, s, d.scale()),
                Double.NaN, null);
    }

    private static Result check(Backend be, Shape s, float p) {
        int n = s.n(), in = s.in(), out = s.out();
        Random r = new Random(n * 7919L + in * 31L + out);
        float[] x = gaussian(r, n * in), w = gaussian(r, out * in), b = gaussian(r, out), dy = gaussian(r, n * out);
        Dropout d = Dropout.train(p, 20260101L, 7L);
        double scale = d.scale();
        long differs = 0;
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
        boolean[] keep = mask(n * out, d);
        for (int e = 0; e < keep.length; e++) {
            if (mask[e] != (keep[e] ? 1f : 0f)) {
                differs++;
            }
        }
        double fwd = forwardError(x, w, b, y, keep, s, scale);
        // dz as the contract defines it, from the backend's own y.
        double[] dz = new double[n * out];
        for (int e = 0; e < dz.length; e++) {
            dz[e] = y[e] > 0 ? dy[e] * scale : 0;
        }
        double bwd = 0;
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < in; k++) {
                double ref = 0, mag = 0;
                for (int j = 0; j < out; j++) {
                    ref += dz[i * out + j] * w[j * in + k];
                    mag += Math.abs(dz[i * out + j] * w[j * in + k]);
                }
                bwd = Math.max(bwd, ratio(dx[i * in + k] - ref, bound(out, mag)));
            }
        }
        for (int j = 0; j < out; j++) {
            double refB = 0, magB = 0;
            for (int i = 0; i < n; i++) {
                refB += dz[i * out + j];
                magB += Math.abs(dz[i * out + j]);
            }
            bwd = Math.max(bwd, ratio(db[j] - refB, bound(n, magB)));
            for (int k = 0; k < in; k++) {
                double ref = 0, mag = 0;
                for (int i = 0; i < n; i++) {
                    ref += dz[i * out + j] * x[i * in + k];
                    mag += Math.abs(dz[i * out + j] * x[i * in + k]);
                }
                bwd = Math.max(bwd, ratio(dw[j * in + k] - ref, bound(n, mag)));
            }
        }
        return new Result(be.name(), false, s, differs, keep.length, fwd, bwd, null);
    }

    private static boolean[] mask(int elements, Dropout d) {
        boolean[] keep = new boolean[elements];
        for (int e = 0; e < elements; e++) {
            keep[e] = Philox.keep(e, d);
        }
        return keep;
    }

    /** The largest error of y against float64, as a fraction of the bound. */
    private static double forwardError(float[] x, float[] w, float[] b, float[] y, boolean[] keep, Shape s,
                                       double scale) {
        int n = s.n(), in = s.in(), out = s.out();
        double fwd = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                double z = b[j], mag = Math.abs(b[j]);
                for (int k = 0; k < in; k++) {
                    z += (double) x[i * in + k] * w[j * in + k];
                    mag += Math.abs((double) x[i * in + k] * w[j * in + k]);
                }
                int e = i * out + j;
                double ref = keep[e] ? Math.max(z, 0) * scale : 0;
                fwd = Math.max(fwd, ratio(y[e] - ref, bound(in, mag * scale)));
            }
        }
        return fwd;
    }

    /** {@code 2·K·2⁻²⁴·magnitude}, K counting the bias as one more term, as core's contract tests do. */
    private static double bound(int k, double magnitude) {
        return 2.0 * (k + 1) * U * magnitude;
    }

    /** |err| / bound, with an exact zero when both are zero (a dropped element, a zero gradient). */
    private static double ratio(double err, double bound) {
        if (err == 0) {
            return 0;
        }
        return bound == 0 ? Double.POSITIVE_INFINITY : Math.abs(err) / bound;
    }

    private static float[] gaussian(Random r, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
