package dev.fuse4j.opencl;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.spi.AbstractBackend;
import dev.fuse4j.spi.LinearShape;
import org.jocl.cl_mem;

/**
 * The fused layer on one OpenCL device. Forward is one tiled GEMM launch with the epilogue before the store;
 * backward is two GEMM launches whose loaders form dz from dy and y, plus a column-sum kernel for db. Every call
 * waits for its own work, so tensors are ready when it returns.
 */
final class OpenClBackend extends AbstractBackend<OpenClTensor> {
    private static final int MODE_FORWARD = 0;
    private static final int MODE_DX = 1;
    private static final int MODE_DW = 2;
    private static final int ELEMENTWISE_GROUP = 64;

    private final ClDevice dev;

    OpenClBackend(String name, ClDevice dev) {
        super(name, OpenClTensor.class);
        this.dev = dev;
    }

    @Override
    public String device() {
        return dev.info.describe() + ", tiles " + dev.tiles.tm() + "x" + dev.tiles.tn() + "x" + dev.tiles.tk();
    }

    @Override
    protected OpenClTensor allocate(int[] shape) {
        return new OpenClTensor(this, dev, dev.allocate(count(shape)), shape);
    }

    @Override
    protected OpenClTensor upload(float[] data, int[] shape) {
        OpenClTensor t = allocate(shape);
        dev.write(t.mem, data);
        return t;
    }

    @Override
    protected OpenClTensor allocateZeros(int[] shape) {
        OpenClTensor t = allocate(shape);
        dev.fillZero(t.mem, t.size());
        return t;
    }

    private static long count(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    protected void forward(LinearShape s, OpenClTensor x, OpenClTensor w, OpenClTensor b, Activation act, Dropout d,
                           OpenClTensor y, OpenClTensor z) {
        dev.lock.lock();
        try {
            gemm(MODE_FORWARD, s.n(), s.out(), s.in(), x.mem, w.mem, y.mem, b.mem, z == null ? dev.unused : z.mem,
                    z != null, dev.unused, dev.unused, dev.unused, s.out(), act, d);
            dev.finish();
        } finally {
            dev.lock.unlock();
        }
    }

    @Override
    protected void backward(LinearShape s, OpenClTensor dy, OpenClTensor x, OpenClTensor w, OpenClTensor y,
                            OpenClTensor z, Activation act, Dropout d, OpenClTensor dx, OpenClTensor dw,
                            OpenClTensor db) {
        cl_mem zm = z == null ? dev.unused : z.mem;
        dev.lock.lock();
        try {
            gemm(MODE_DX, s.n(), s.in(), s.out(), dev.unused, w.mem, dx.mem, dev.unused, dev.unused, false, dy.mem,
                    y.mem, zm, s.out(), act, d);
            gemm(MODE_DW, s.out(), s.in(), s.n(), dev.unused, x.mem, dw.mem, dev.unused, dev.unused, false, dy.mem,
                    y.mem, zm, s.out(), act, d);
            dev.launch("bias_grad", global1(s.out()), new long[] {ELEMENTWISE_GROUP}, s.n(), s.out(), dy.mem, y.mem,
                    zm, db.mem, act.kind().ordinal(), act.alpha(), d.scale(), d.training() ? 1 : 0, d.threshold(),
                    lo(d.seed()), hi(d.seed()), lo(d.offset()), hi(d.offset()));
            dev.finish();
        } finally {
            dev.lock.unlock();
        }
    }

    private void gemm(int mode, int m, int n, int k, cl_mem a, cl_mem b, cl_mem c, cl_mem bias, cl_mem zout,
                      boolean storeZ, cl_mem dy, cl_mem y, cl_mem z, int ldo, Activation act, Dropout d) {
        TileConfig t = dev.tiles;
        long[] local = {t.workGroupX(), t.workGroupY()};
        long[] global = {(long) ((n + t.tn() - 1) / t.tn()) * t.workGroupX(),
            (long) ((m + t.tm() - 1) / t.tm()) * t.workGroupY()};
        dev.launch("gemm", global, local, mode, m, n, k, a, b, c, bias, zout, storeZ ? 1 : 0, dy, y, z, ldo,
                act.kind().ordinal(), act.alpha(), d.scale(), d.training() ? 1 : 0, d.threshold(), lo(d.seed()),
                hi(d.seed()), lo(d.offset()), hi(d.offset()));
    }

    @Override
    protected void mask(int rows, int cols, Dropout d, OpenClTensor out) {
        long total = (long) rows * cols;
        dev.lock.lock();
        try {
            dev.launch("dropout_mask", global1((total + 3) / 4), new long[] {ELEMENTWISE_GROUP}, total, out.mem,
                    d.training() ? 1 : 0, d.threshold(), lo(d.seed()), hi(d.seed()), lo(d.offset()), hi(d.offset()));
            dev.finish();
        } finally {
            dev.lock.unlock();
        }
    }

    @Override
    protected double[] crossEntropy(int n, int classes, OpenClTensor logits, OpenClTensor labels,
                                    OpenClTensor grad) {
        cl_mem rowLoss = dev.allocate(n);
        cl_mem rowCorrect = dev.allocate(n);
        cl_mem sums = dev.allocate(2);
        float[] two = new float[2];
        try {
            dev.lock.lock();
            try {
                dev.launch("softmax_xent_rows", global1(n), new long[] {ELEMENTWISE_GROUP}, n, classes, logits.mem,
                        labels.mem, grad.mem, rowLoss, rowCorrect);
                dev.launch("sum2", new long[] {dev.reduceSize}, new long[] {dev.reduceSize}, n, rowLoss, rowCorrect,
                        sums);
                dev.finish();
            } finally {
                dev.lock.unlock();
            }
            dev.read(sums, two);
        } finally {
            org.jocl.CL.clReleaseMemObject(rowLoss);
            org.jocl.CL.clReleaseMemObject(rowCorrect);
            org.jocl.CL.clReleaseMemObject(sums);
        }
        return new double[] {two[0] / n, Math.round(two[1])};
    }

    @Override
    protected void sgd(OpenClTensor param, OpenClTensor grad, OpenClTensor velocity, float lr, float momentum,
                       float wd) {
        int len = (int) param.size();
        dev.lock.lock();
        try {
            dev.launch("sgd_step", global1(len), new long[] {ELEMENTWISE_GROUP}, len, param.mem, grad.mem,
                    velocity.mem, lr, momentum, wd);
            dev.finish();
        } finally {
            dev.lock.unlock();
        }
    }

    @Override
    protected void adam(OpenClTensor param, OpenClTensor grad, OpenClTensor m, OpenClTensor v, float lr, float beta1,
                        float beta2, float eps, float wd, long step) {
        int len = (int) param.size();
        float c1 = (float) (1 - Math.pow(beta1, step));
        float c2 = (float) (1 - Math.pow(beta2, step));
        dev.lock.lock();
        try {
            dev.launch("adam_step", global1(len), new long[] {ELEMENTWISE_GROUP}, len, param.mem, grad.mem, m.mem,
                    v.mem, lr, beta1, beta2, eps, wd, c1, c2);
            dev.finish();
        } finally {
            dev.lock.unlock();
        }
    }

    /** A 1-D global size rounded up to whole work-groups. */
    private static long[] global1(long items) {
        return new long[] {(items + ELEMENTWISE_GROUP - 1) / ELEMENTWISE_GROUP * ELEMENTWISE_GROUP};
    }

    private static int lo(long v) {
        return (int) v;
    }

    private static int hi(long v) {
        return (int) (v >>> 32);
    }
}
