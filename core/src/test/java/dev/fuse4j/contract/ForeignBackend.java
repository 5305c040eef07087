package dev.fuse4j.contract;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.spi.AbstractBackend;
import dev.fuse4j.spi.LinearShape;
import dev.fuse4j.spi.TensorBase;

import java.nio.FloatBuffer;

/**
 * A second backend for the contract suite's ownership checks: it can only make heap tensors, and every operation
 * refuses loudly, since the suite only ever passes its tensors to the backend under test.
 */
final class ForeignBackend extends AbstractBackend<ForeignBackend.HeapTensor> {

    static final ForeignBackend INSTANCE = new ForeignBackend();

    private ForeignBackend() {
        super("foreign-test-backend", HeapTensor.class);
    }

    static final class HeapTensor extends TensorBase {
        private final float[] data;

        HeapTensor(ForeignBackend owner, float[] data, int[] shape) {
            super(owner, shape, null);
            this.data = data;
        }

        @Override
        protected float[] read() {
            return data.clone();
        }

        @Override
        protected void write(FloatBuffer src) {
            src.get(0, data);
        }

        @Override
        protected void copyWithin(TensorBase src) {
            System.arraycopy(((HeapTensor) src).data, 0, data, 0, data.length);
        }

        @Override
        protected void readInto(FloatBuffer dst) {
            dst.put(0, data);
        }
    }

    @Override
    public String device() {
        return "heap (test double for ownership checks)";
    }

    @Override
    protected HeapTensor allocate(int[] shape) {
        return new HeapTensor(this, new float[dev.fuse4j.spi.Shapes.checkedSize(shape)], shape);
    }

    @Override
    protected HeapTensor upload(float[] data, int[] shape) {
        return new HeapTensor(this, data.clone(), shape);
    }

    @Override
    protected HeapTensor allocateZeros(int[] shape) {
        return allocate(shape);
    }

    private static IllegalStateException refuse() {
        return new IllegalStateException("the foreign test backend only makes tensors");
    }

    @Override
    protected void forward(LinearShape s, HeapTensor x, HeapTensor w, HeapTensor b, Activation act, Dropout d,
                           HeapTensor y, HeapTensor z) {
        throw refuse();
    }

    @Override
    protected void backward(LinearShape s, HeapTensor dy, HeapTensor x, HeapTensor w, HeapTensor y, HeapTensor z,
                            Activation act, Dropout d, HeapTensor dx, HeapTensor dw, HeapTensor db) {
        throw refuse();
    }

    @Override
    protected void slopeGradient(LinearShape s, HeapTensor dy, HeapTensor z, Dropout d, HeapTensor da) {
        throw refuse();
    }

    @Override
    protected void mask(int rows, int cols, Dropout d, HeapTensor out) {
        throw refuse();
    }

    @Override
    protected void applyDropout(int rows, int cols, HeapTensor x, Dropout d, HeapTensor out) {
        throw refuse();
    }

    @Override
    protected double[] crossEntropy(int n, int classes, int batchSize, HeapTensor logits, HeapTensor labels,
                                    HeapTensor grad) {
        throw refuse();
    }

    @Override
    protected void sgd(HeapTensor param, HeapTensor grad, HeapTensor velocity, float lr, float momentum, float wd) {
        throw refuse();
    }

    @Override
    protected void adam(HeapTensor param, HeapTensor grad, HeapTensor m, HeapTensor v, float lr, float beta1,
                        float beta2, float eps, float wd, long step) {
        throw refuse();
    }
    @Override
    protected void batchNormStatistics(int n, int out, HeapTensor z, HeapTensor stats) {
        throw refuse();
    }

    @Override
    protected void batchNormForward(int n, int out, HeapTensor z, HeapTensor stats, HeapTensor gamma,
                                    HeapTensor beta, float eps, Activation act, Dropout d, HeapTensor y) {
        throw refuse();
    }

    @Override
    protected void batchNormBackward(int n, int out, HeapTensor dy, HeapTensor y, HeapTensor z, HeapTensor stats,
                                     HeapTensor gamma, HeapTensor beta, float eps, Activation act, Dropout d,
                                     HeapTensor dz, HeapTensor dgamma, HeapTensor dbeta) {
        throw refuse();
    }
}
