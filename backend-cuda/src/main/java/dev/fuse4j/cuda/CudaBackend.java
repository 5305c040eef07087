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
        gemm("gemm_forward", s.n(), s.out(), s.in(), s.in(), 1, x.ptr, w.ptr, y.ptr, b.ptr,
                z == null ? dev.unused : z.ptr, z != null, dev.unused, dev.unused, dev.unused, s.out(), act, d);
        dev.synchronize();
    }

    @Override
    protected void backward(LinearShape s, CudaTensor dy, CudaTensor x, CudaTensor w, CudaTensor y, CudaTensor z,
                            Activation act, Dropout d, CudaTensor dx, CudaTensor dw, CudaTensor db) {
        CUdeviceptr zp = z == null ? dev.unused : z.ptr;
        if (dx != null) {
            backwardProduct("gemm_dx", s.n(), s.in(), s.out(), w.ptr, dx.ptr, dy, y, zp, s.out(), act, d);
        }
        backwardProduct("gemm_dw", s.out(), s.in(), s.n(), x.ptr, dw.ptr, dy, y, zp, s.out(), act, d);
        // db: row chunks summed per column in parallel, then the chunks added in order.
        int chunks = Math.min(1024, Math.max(1, s.n() / 64));
        int rows = (s.n() + chunks - 1) / chunks;
        chunks = (s.n() + rows - 1) / rows;
        CUdeviceptr partial = dev.allocate((long) chunks * s.out());
        try {
            dev.launch("bias_grad", blocks(s.out()), chunks, BLOCK, s.n(), s.out(), rows, dy.ptr, y.ptr, zp, partial,
                    act.kind().ordinal(), act.alpha(), d.scale(), d.training() ? 1 : 0, d.threshold(), d.seed(),
                    d.offset(), d.elementBase());
            dev.launch("reduce_slices", blocks(s.out()), 1, BLOCK, chunks, (long) s.out(), partial, db.ptr);
            dev.synchronize();
        } finally {
            dev.free(partial);
        }
    }

    /**
     * One backward GEMM ({@code m × n} output over {@code k}), with K split across slices when the output has too
     * few tiles to fill the GPU (dw of a tall batch: 256 × 256 outputs over 65 536 rows is four tiles).
     */
    private void backwardProduct(String kernel, int m, int n, int k, CUdeviceptr b, CUdeviceptr c, CudaTensor dy,
                                 CudaTensor y, CUdeviceptr z, int ld, Activation act, Dropout d) {
        int tiles = ((m + TILE - 1) / TILE) * ((n + TILE - 1) / TILE);
        int slices = splitK(tiles, k, dev.info.multiprocessors());
        if (slices == 1) {
            gemm(kernel, m, n, k, k, 1, dev.unused, b, c, dev.unused, dev.unused, false, dy.ptr, y.ptr, z, ld, act, d);
            return;
        }
        int chunk = ((k + slices - 1) / slices + 7) / 8 * 8; // whole K steps of the kernel (BK = 8)
        slices = (k + chunk - 1) / chunk;
        long mn = (long) m * n;
        CUdeviceptr partial = dev.allocate(slices * mn);
        try {
            gemm(kernel, m, n, k, chunk, slices, dev.unused, b, partial, dev.unused, dev.unused, false, dy.ptr, y.ptr,
                    z, ld, act, d);
            dev.launch("reduce_slices", (int) ((mn + BLOCK - 1) / BLOCK), 1, BLOCK, slices, mn, partial, c);
            dev.synchronize();
        } finally {
            dev.free(partial);
        }
    }

    private void gemm(String kernel, int m, int n, int k, int kChunk, int slices, CUdeviceptr a, CUdeviceptr b,
                      CUdeviceptr c, CUdeviceptr bias, CUdeviceptr zout, boolean storeZ, CUdeviceptr dy, CUdeviceptr y,
                      CUdeviceptr z, int ld, Activation act, Dropout d) {
        dev.launchGrid3(kernel, (n + TILE - 1) / TILE, (m + TILE - 1) / TILE, slices, GEMM_THREADS, m, n, k, kChunk,
                a, b, c, bias, zout, storeZ ? 1 : 0, dy, y, z, ld, act.kind().ordinal(), act.alpha(), d.scale(),
                d.training() ? 1 : 0, d.threshold(), d.seed(), d.offset(), d.elementBase());
    }

    /** Slices of K so that about two blocks per SM run, each still at least 256 long; 1 when tiles suffice. */
    static int splitK(int tiles, int k, int sms) {
        if (tiles >= 2 * sms || k < 512) {
            return 1;
        }
        return Math.max(1, Math.min((2 * sms + tiles - 1) / tiles, k / 256));
    }

    @Override
    protected void mask(int rows, int cols, Dropout d, CudaTensor out) {
        long total = (long) rows * cols;
        long blocks = ((d.elementBase() & 3) + total + 3) / 4; // Philox blocks the slice's mask elements touch
        dev.launch("dropout_mask", blocks(blocks), 1, BLOCK, total, out.ptr, d.scale(), d.training() ? 1 : 0,
                d.threshold(), d.seed(), d.offset(), d.elementBase());
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
}
