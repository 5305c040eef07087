package dev.fuse4j.cuda;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.spi.AbstractBackend;
import dev.fuse4j.spi.LinearShape;
import jcuda.driver.CUdeviceptr;

/**
 * The fused layer on one CUDA device: one GEMM launch with the epilogue fused for forward; two GEMM launches whose
 * loaders form dz from dy and y, and a column sum for db, for backward. Each call synchronises before returning.
 */
final class CudaBackend extends AbstractBackend<CudaTensor> {
    /** Output tile of the GEMM kernels (BM = BN in fuse4j.cu) and its threads per block. */
    private static final int TILE = 128;
    private static final int GEMM_THREADS = 256;
    private static final int BLOCK = 256;

    private final CudaDevice dev;

    CudaBackend(String name, CudaDevice dev) {
        super(name, CudaTensor.class);
        this.dev = dev;
    }

    @Override
    public String device() {
        return dev.description;
    }

    @Override
    protected CudaTensor allocate(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return new CudaTensor(this, dev, dev.allocate(n), shape);
    }

    @Override
    protected CudaTensor upload(float[] data, int[] shape) {
        CudaTensor t = allocate(shape);
        dev.write(t.ptr, data);
        return t;
    }

    @Override
    protected CudaTensor allocateZeros(int[] shape) {
        CudaTensor t = allocate(shape);
        dev.zero(t.ptr, t.size());
        return t;
    }

    @Override
    protected void forward(LinearShape s, CudaTensor x, CudaTensor w, CudaTensor b, Activation act, Dropout d,
                           CudaTensor y, CudaTensor z) {
        gemm("gemm_forward", s.n(), s.out(), s.in(), x.ptr, w.ptr, y.ptr, b.ptr, z == null ? dev.unused : z.ptr,
                z != null, dev.unused, dev.unused, dev.unused, s.out(), act, d);
        dev.synchronize();
    }

    @Override
    protected void backward(LinearShape s, CudaTensor dy, CudaTensor x, CudaTensor w, CudaTensor y, CudaTensor z,
                            Activation act, Dropout d, CudaTensor dx, CudaTensor dw, CudaTensor db) {
        CUdeviceptr zp = z == null ? dev.unused : z.ptr;
        gemm("gemm_dx", s.n(), s.in(), s.out(), dev.unused, w.ptr, dx.ptr, dev.unused, dev.unused, false, dy.ptr,
                y.ptr, zp, s.out(), act, d);
        gemm("gemm_dw", s.out(), s.in(), s.n(), dev.unused, x.ptr, dw.ptr, dev.unused, dev.unused, false, dy.ptr,
                y.ptr, zp, s.out(), act, d);
        dev.launch("bias_grad", blocks(s.out()), 1, BLOCK, s.n(), s.out(), dy.ptr, y.ptr, zp, db.ptr,
                act.kind().ordinal(), act.alpha(), d.scale(), d.training() ? 1 : 0, d.threshold(), lo(d.seed()),
                hi(d.seed()), lo(d.offset()), hi(d.offset()));
        dev.synchronize();
    }

    private void gemm(String kernel, int m, int n, int k, CUdeviceptr a, CUdeviceptr b, CUdeviceptr c,
                      CUdeviceptr bias, CUdeviceptr zout, boolean storeZ, CUdeviceptr dy, CUdeviceptr y,
                      CUdeviceptr z, int ld, Activation act, Dropout d) {
        dev.launch(kernel, (n + TILE - 1) / TILE, (m + TILE - 1) / TILE, GEMM_THREADS, m, n, k, a, b, c, bias, zout,
                storeZ ? 1 : 0, dy, y, z, ld, act.kind().ordinal(), act.alpha(), d.scale(), d.training() ? 1 : 0,
                d.threshold(), lo(d.seed()), hi(d.seed()), lo(d.offset()), hi(d.offset()));
    }

    @Override
    protected void mask(int rows, int cols, Dropout d, CudaTensor out) {
        long total = (long) rows * cols;
        dev.launch("dropout_mask", (int) ((total + 4L * BLOCK - 1) / (4L * BLOCK)), 1, BLOCK, total, out.ptr,
                d.training() ? 1 : 0, d.threshold(), lo(d.seed()), hi(d.seed()), lo(d.offset()), hi(d.offset()));
        dev.synchronize();
    }

    @Override
    protected double[] crossEntropy(int n, int classes, CudaTensor logits, CudaTensor labels, CudaTensor grad) {
        CUdeviceptr rowLoss = dev.allocate(n);
        CUdeviceptr rowCorrect = dev.allocate(n);
        CUdeviceptr sums = dev.allocate(2);
        float[] two = new float[2];
        try {
            dev.launch("softmax_xent_rows", blocks(n), 1, BLOCK, n, classes, logits.ptr, labels.ptr, grad.ptr, rowLoss,
                    rowCorrect);
            dev.launch("sum2", 1, 1, 256, n, rowLoss, rowCorrect, sums);
            dev.synchronize();
            dev.read(sums, two);
        } finally {
            dev.free(rowLoss);
            dev.free(rowCorrect);
            dev.free(sums);
        }
        return new double[] {two[0] / n, Math.round(two[1])};
    }

    @Override
    protected void sgd(CudaTensor param, CudaTensor grad, CudaTensor velocity, float lr, float momentum, float wd) {
        int len = (int) param.size();
        dev.launch("sgd_step", blocks(len), 1, BLOCK, len, param.ptr, grad.ptr, velocity.ptr, lr, momentum, wd);
        dev.synchronize();
    }

    @Override
    protected void adam(CudaTensor param, CudaTensor grad, CudaTensor m, CudaTensor v, float lr, float beta1,
                        float beta2, float eps, float wd, long step) {
        int len = (int) param.size();
        float c1 = (float) (1 - Math.pow(beta1, step));
        float c2 = (float) (1 - Math.pow(beta2, step));
        dev.launch("adam_step", blocks(len), 1, BLOCK, len, param.ptr, grad.ptr, m.ptr, v.ptr, lr, beta1, beta2, eps,
                wd, c1, c2);
        dev.synchronize();
    }

    private static int blocks(long items) {
        return (int) ((items + BLOCK - 1) / BLOCK);
    }

    private static int lo(long v) {
        return (int) v;
    }

    private static int hi(long v) {
        return (int) (v >>> 32);
    }
}
