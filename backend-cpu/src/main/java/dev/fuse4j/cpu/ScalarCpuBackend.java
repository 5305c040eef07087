package dev.fuse4j.cpu;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.PhiloxMask;
import dev.fuse4j.spi.LinearShape;

/**
 * The readable oracle: the formulas of DESIGN.md as plain loops on one thread, in float32. Every other path is
 * compared with the float64 reference in tests, and this one is the place to read what they compute.
 */
final class ScalarCpuBackend extends CpuBackend {

    ScalarCpuBackend(String name) {
        super(name);
    }

    @Override
    public String device() {
        return "Java scalar loops, 1 thread (" + System.getProperty("os.arch") + ")";
    }

    @Override
    protected void forward(LinearShape s, CpuTensor x, CpuTensor w, CpuTensor b, Activation act, Dropout d,
                           CpuTensor y, CpuTensor z) {
        forward(s, x, w, b, act, d, y, z, null);
    }

    /** Pass 1 of batch norm: the identity layer, its statistics summed in the loop that stores z. */
    @Override
    protected void linearStatistics(LinearShape s, CpuTensor x, CpuTensor w, CpuTensor b, CpuTensor z,
                                    CpuTensor stats) {
        ShiftedSums sums = new ShiftedSums(s.out());
        forward(s, x, w, b, Activation.identity(), Dropout.eval(), z, null, sums);
        sums.finish(s.n(), stats.data);
    }

    /** The layer; with {@code sums}, each z is also added to them as it is stored. */
    private void forward(LinearShape s, CpuTensor x, CpuTensor w, CpuTensor b, Activation act, Dropout d,
                         CpuTensor y, CpuTensor z, ShiftedSums sums) {
        int n = s.n(), in = s.in(), out = s.out();
        float scale = d.onOutputs().scale();
        PhiloxMask mask = new PhiloxMask(d);
        CpuTensor slope = slopeOf(act);
        DropConnectWeights wm = new DropConnectWeights(d);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                float acc = 0f;
                for (int k = 0; k < in; k++) {
                    acc += x.data[i * in + k] * wm.load(w.data, j * in + k);
                }
                float zz = acc + b.data[j];
                int e = i * out + j;
                if (z != null) {
                    z.data[e] = zz;
                }
                if (sums != null) {
                    sums.add(i, j, zz);
                }
                float alpha = slope == null ? act.alpha() : slope.data[j];
                y.data[e] = mask.keep(e) ? Epilogue.activate(act.kind(), alpha, zz) * scale : 0f;
            }
        }
    }

    @Override
    protected void backward(LinearShape s, CpuTensor dy, CpuTensor x, CpuTensor w, CpuTensor y, CpuTensor z,
                            Activation act, Dropout d, CpuTensor dx, CpuTensor dw, CpuTensor db) {
        int n = s.n(), in = s.in(), out = s.out();
        float scale = d.onOutputs().scale();
        PhiloxMask mask = new PhiloxMask(d);
        DropConnectWeights wm = new DropConnectWeights(d);
        float[] dz = new float[n * out];
        CpuTensor slope = slopeOf(act);
        for (int e = 0; e < dz.length; e++) {
            float alpha = slope == null ? act.alpha() : slope.data[e % out];
            dz[e] = Epilogue.dz(act.kind(), alpha, scale, dy.data[e], y.data[e], z == null ? 0f : z.data[e],
                    mask.keep(e));
        }
        for (int i = 0; dx != null && i < n; i++) {
            for (int k = 0; k < in; k++) {
                float acc = 0f;
                for (int j = 0; j < out; j++) {
                    acc += dz[i * out + j] * wm.load(w.data, j * in + k);
                }
                dx.data[i * in + k] = acc;
            }
        }
        for (int j = 0; j < out; j++) {
            float sb = 0f;
            for (int i = 0; i < n; i++) {
                sb += dz[i * out + j];
            }
            db.data[j] = sb;
            for (int k = 0; k < in; k++) {
                float acc = 0f;
                for (int i = 0; i < n; i++) {
                    acc += dz[i * out + j] * x.data[i * in + k];
                }
                dw.data[j * in + k] = wm.store(acc, j * in + k);
            }
        }
    }

    @Override
    protected void slopeGradient(LinearShape s, CpuTensor dy, CpuTensor z, Dropout d, CpuTensor da) {
        int n = s.n(), out = s.out();
        PhiloxMask mask = new PhiloxMask(d);
        java.util.Arrays.fill(da.data, 0f);
        for (int e = 0; e < n * out; e++) {
            da.data[e % out] += Epilogue.slopeTerm(d.scale(), dy.data[e], z.data[e], mask.keep(e));
        }
    }

    @Override
    protected void applyDropout(int rows, int cols, CpuTensor x, Dropout d, CpuTensor out) {
        PhiloxMask mask = new PhiloxMask(d);
        float scale = d.scale();
        for (int e = 0; e < out.data.length; e++) {
            out.data[e] = mask.keep(e) ? x.data[e] * scale : 0f;
        }
    }

    @Override
    protected void mask(int rows, int cols, Dropout d, CpuTensor out) {
        PhiloxMask mask = d.dropConnect() ? PhiloxMask.weights(d) : new PhiloxMask(d);
        for (int e = 0; e < out.data.length; e++) {
            out.data[e] = mask.keep(e) ? 1f : 0f;
        }
    }
}
