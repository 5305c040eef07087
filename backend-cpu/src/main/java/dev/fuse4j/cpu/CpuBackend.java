package dev.fuse4j.cpu;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.spi.AbstractBackend;
import dev.fuse4j.spi.Shapes;

/**
 * What both CPU paths share: heap tensors, and the loss and optimizer updates (memory-bound loops that the JIT
 * vectorises well enough on its own; Adam's, with two divisions and a square root per element, it did not, so the
 * Vector API path runs it in vectors: {@link VectorAdam}). Subclasses provide the fused linear layer and the mask.
 */
abstract class CpuBackend extends AbstractBackend<CpuTensor> {

    CpuBackend(String name) {
        super(name, CpuTensor.class);
    }

    /** Arrays of closed tensors, reused for outputs of the same size (see {@link ArrayRecycler}). */
    private final ArrayRecycler recycler = new ArrayRecycler();

    @Override
    protected CpuTensor allocate(int[] shape) {
        return new CpuTensor(this, HeapMemory.allocate((int) Shapes.size(shape), shape, name(), recycler::take), shape,
                recycler);
    }

    @Override
    protected CpuTensor upload(float[] data, int[] shape) {
        float[] copy = HeapMemory.allocate(data.length, shape, name(), float[]::new);
        System.arraycopy(data, 0, copy, 0, data.length);
        return new CpuTensor(this, copy, shape, recycler);
    }

    @Override
    protected CpuTensor allocateZeros(int[] shape) {
        return new CpuTensor(this, HeapMemory.allocate((int) Shapes.size(shape), shape, name(), float[]::new), shape,
                recycler);
    }

    @Override
    protected double[] crossEntropy(int n, int classes, int batchSize, CpuTensor logits, CpuTensor labels,
                                    CpuTensor grad) {
        float[] l = logits.data, g = grad.data;
        double loss = 0;
        int correct = 0;
        for (int i = 0; i < n; i++) {
            int row = i * classes;
            float label = labels.data[i];
            int y = (int) label;
            if (y != label || y < 0 || y >= classes) {
                throw new IllegalArgumentException("label " + i + " is " + label + " but must be a class index in [0, "
                        + classes + ")");
            }
            float max = l[row];
            int arg = 0;
            for (int j = 1; j < classes; j++) {
                if (l[row + j] > max) {
                    max = l[row + j];
                    arg = j;
                }
            }
            float sum = 0f;
            for (int j = 0; j < classes; j++) {
                float ex = (float) Math.exp(l[row + j] - max);
                g[row + j] = ex;
                sum += ex;
            }
            float inv = 1f / sum;
            for (int j = 0; j < classes; j++) {
                g[row + j] = (g[row + j] * inv - (j == y ? 1f : 0f)) / batchSize;
            }
            loss += Math.log(sum) - (l[row + y] - max);
            correct += arg == y ? 1 : 0;
        }
        return new double[] {loss / batchSize, correct};
    }

    @Override
    protected void sgd(CpuTensor param, CpuTensor grad, CpuTensor velocity, float lr, float momentum, float wd) {
        float[] p = param.data, g = grad.data, v = velocity.data;
        for (int i = 0; i < p.length; i++) {
            float gi = g[i] + wd * p[i];
            v[i] = momentum * v[i] + gi;
            p[i] -= lr * v[i];
        }
        param.packs.invalidate();
        velocity.packs.invalidate();
    }

    @Override
    protected void adam(CpuTensor param, CpuTensor grad, CpuTensor m, CpuTensor v, float lr, float beta1, float beta2,
                        float eps, float wd, long step) {
        adam(new AdamUpdate(param.data, grad.data, m.data, v.data, lr, beta1, beta2, eps, wd, step));
        param.packs.invalidate();
        m.packs.invalidate();
        v.packs.invalidate();
    }

    /** Runs {@code update} over every element: in plain loops here (the scalar oracle's way). */
    void adam(AdamUpdate update) {
        update.scalar(0, update.p.length);
    }

    @Override
    protected void batchNormStatistics(int n, int out, CpuTensor z, CpuTensor stats) {
        BatchNormLoops.statistics(n, out, z.data, stats.data);
    }

    @Override
    protected void batchNormForward(int n, int out, CpuTensor z, CpuTensor stats, CpuTensor gamma, CpuTensor beta,
                                    float eps, Activation act, Dropout d, CpuTensor y) {
        BatchNormLoops.forward(n, out, z.data, stats.data, gamma.data, beta.data, eps, act, d, y.data);
    }

    @Override
    protected void batchNormBackward(int n, int out, CpuTensor dy, CpuTensor y, CpuTensor z, CpuTensor stats,
                                     CpuTensor gamma, CpuTensor beta, float eps, Activation act, Dropout d,
                                     CpuTensor dz, CpuTensor dgamma, CpuTensor dbeta) {
        BatchNormLoops.backward(n, out, dy.data, y.data, z.data, stats.data, gamma.data, beta.data, eps, act, d,
                dz.data, dgamma.data, dbeta.data);
    }
}
