package dev.fuse4j.interop;

import dev.fuse4j.Activation;
import dev.fuse4j.nn.BatchNorm;
import dev.fuse4j.nn.Dense;
import dev.fuse4j.nn.Layer;
import dev.fuse4j.nn.Sequential;
import dev.fuse4j.reference.BatchNormReference;
import dev.fuse4j.reference.Reference;

/**
 * A model's evaluation-mode output in float64, with a bound on how far any float32 evaluation of it may stray:
 * the contract bound per layer, {@code 2·(K+1)·2⁻²⁴·(|b| + Σ|x·w|)} on the pre-activation, carried through the
 * next layers loosely (an input error {@code e_k} adds {@code Σ|w_jk|·e_k}, and the magnitude counts
 * {@code |x_k| + e_k}), times the activation's steepest slope (for PReLU, that of the column's own slope), plus for
 * GELU the slack the contract suite allows for a float32 tanh. A layer with batch norm is taken in its evaluation
 * form, the float64 fold of its running statistics into W and b, with one more rounding per term for the float32
 * weights the fold is stored in.
 *
 * @param y     the float64 output, {@code [n, out]} row-major
 * @param bound per output element, the largest error a float32 evaluation within the contract may have
 */
record PropagatedReference(double[] y, double[] bound) {

    static PropagatedReference of(Sequential model, float[] x, int n) {
        double[] h = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            h[i] = x[i];
        }
        double[] err = new double[x.length];
        for (Layer layer : model.layers()) {
            Dense d = (Dense) layer;
            int in = d.inFeatures(), out = d.outFeatures();
            double[] w = widen(d.weight().value().toArray());
            double[] b = widen(d.bias().value().toArray());
            int terms = in;
            if (d.batchNorm() != null) {
                BatchNorm bn = d.batchNorm();
                double[][] folded = BatchNormReference.fold(d.weight().value().toArray(),
                        d.bias().value().toArray(), bn.gamma().value().toArray(), bn.beta().value().toArray(),
                        widen(bn.runningMean()), widen(bn.runningVar()), bn.eps(), in, out);
                w = folded[0];
                b = folded[1];
                terms = in + 1;
            }
            Activation act = d.activation();
            float[] a = d.slope() == null ? null : d.slope().value().toArray();
            double[] y = new double[n * out];
            double[] e = new double[n * out];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < out; j++) {
                    double z = b[j], magnitude = Math.abs(b[j]), carried = 0;
                    for (int k = 0; k < in; k++) {
                        double wk = w[j * in + k];
                        z += h[i * in + k] * wk;
                        magnitude += (Math.abs(h[i * in + k]) + err[i * in + k]) * Math.abs(wk);
                        carried += err[i * in + k] * Math.abs(wk);
                    }
                    double zErr = carried + Reference.bound(terms, magnitude, 1.0);
                    if (a != null) {
                        y[i * out + j] = Reference.prelu(a[j], z);
                        e[i * out + j] = Reference.preluOutputBound(a[j], zErr, 1);
                    } else {
                        y[i * out + j] = Reference.activation(act, z);
                        e[i * out + j] = Reference.outputBound(act, zErr, z, 1);
                    }
                }
            }
            h = y;
            err = e;
        }
        return new PropagatedReference(h, err);
    }

    private static double[] widen(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }
}
