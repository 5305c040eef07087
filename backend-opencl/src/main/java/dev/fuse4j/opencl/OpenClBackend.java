package dev.fuse4j.opencl;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.spi.AbstractBackend;
import dev.fuse4j.spi.LinearShape;
import org.jocl.cl_mem;

import java.util.List;

import static org.jocl.CL.clReleaseMemObject;

/**
 * The fused layer and the training helpers on one OpenCL device. Forward is one GEMM launch with the epilogue
 * before the store; backward is two GEMM launches whose loaders form dz from dy and y (the dw launch also sums db).
 * Every call holds the device lock until its own work is finished, so its outputs are ready when it returns.
 */
final class OpenClBackend extends AbstractBackend<OpenClTensor> {
    static final String ELEMENTWISE_SOURCE = "elementwise.cl";
    static final List<String> ELEMENTWISE_KERNELS = List.of("dropout_mask", "softmax_xent_rows", "sum2", "sgd_step",
            "adam_step");
    private static final int ELEMENTWISE_GROUP = 64;

    private final ClDevice dev;
    private final ClGemm gemm;
    private final ClProgramCache.Built elementwise;
    /** Work-group size of the one-group reduction in {@code sum2}: a power of two the device allows. */
    private final int reduceSize;

    OpenClBackend(String name, ClDevice dev) {
        super(name, OpenClTensor.class);
        this.dev = dev;
        this.gemm = new ClGemm(dev);
        this.reduceSize = Integer.highestOneBit((int) Math.min(256, dev.info.maxWorkGroupSize()));
        this.elementwise = dev.programs.get(ELEMENTWISE_SOURCE, "-DRED=" + reduceSize, ELEMENTWISE_KERNELS);
    }

    @Override
    public String device() {
        return dev.info.describe() + ", GEMM tiles " + gemm.describe();
    }

    @Override
    protected OpenClTensor allocate(int[] shape) {
        return new OpenClTensor(this, dev, shape);
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

    @Override
    protected void forward(LinearShape s, OpenClTensor x, OpenClTensor w, OpenClTensor b, Activation act, Dropout d,
                           OpenClTensor y, OpenClTensor z) {
        dev.lock.lock();
        try {
            gemm.enqueue(ClGemm.MODE_FORWARD, s.n(), s.out(), s.in(), x.mem, w.mem, y.mem, b.mem,
                    z == null ? dev.unused : z.mem, z != null, dev.unused, dev.unused, dev.unused, dev.unused, act, d);
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
            if (dx != null) {
                // dx[n × in] = dz[n × out]·w[out × in]
                gemm.enqueue(ClGemm.MODE_DX, s.n(), s.in(), s.out(), dev.unused, w.mem, dx.mem, dev.unused,
                        dev.unused, false, dy.mem, y.mem, zm, dev.unused, act, d);
            }
            // dw[out × in] = dzᵀ[out × n]·x[n × in], and db = the row sums of dzᵀ
            gemm.enqueue(ClGemm.MODE_DW, s.out(), s.in(), s.n(), dev.unused, x.mem, dw.mem, dev.unused, dev.unused,
                    false, dy.mem, y.mem, zm, db.mem, act, d);
            dev.finish();
        } finally {
            dev.lock.unlock();
        }
    }

    @Override
    protected void mask(int rows, int cols, Dropout d, OpenClTensor out) {
        long total = (long) rows * cols;
        dev.lock.lock();
        try {
            // One work-item per Philox block the slice's mask elements touch.
            launch("dropout_mask", ((d.elementBase() & 3) + total + 3) / 4, total, out.mem, d.scale(),
                    d.training() ? 1 : 0, d.threshold(), d.seed(), d.offset(), d.elementBase());
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
                launch("softmax_xent_rows", n, n, classes, logits.mem, labels.mem, grad.mem, rowLoss, rowCorrect);
                ClLaunch.run(dev.queue, elementwise.kernel("sum2"), "sum2", new long[] {reduceSize},
                        new long[] {reduceSize}, n, rowLoss, rowCorrect, sums);
                dev.finish();
            } finally {
                dev.lock.unlock();
            }
            dev.read(sums, two); // only the two sums cross to the host
        } finally {
            clReleaseMemObject(rowLoss);
            clReleaseMemObject(rowCorrect);
            clReleaseMemObject(sums);
        }
        return new double[] {two[0] / n, Math.round(two[1])};
    }

    @Override
    protected void sgd(OpenClTensor param, OpenClTensor grad, OpenClTensor velocity, float lr, float momentum,
                       float wd) {
        int len = (int) param.size();
        dev.lock.lock();
        try {
            launch("sgd_step", len, len, param.mem, grad.mem, velocity.mem, lr, momentum, wd);
            dev.finish();
        } finally {
            dev.lock.unlock();
        }
    }

    @Override
    protected void adam(OpenClTensor param, OpenClTensor grad, OpenClTensor m, OpenClTensor v, float lr, float beta1,
                        float beta2, float eps, float wd, long step) {
        int len = (int) param.size();
        // The bias corrections in double on the host, as CpuBackend computes them.
        float c1 = (float) (1 - Math.pow(beta1, step));
        float c2 = (float) (1 - Math.pow(beta2, step));
        dev.lock.lock();
        try {
            launch("adam_step", len, len, param.mem, grad.mem, m.mem, v.mem, lr, beta1, beta2, eps, wd, c1, c2);
            dev.finish();
        } finally {
            dev.lock.unlock();
        }
    }

    /** Enqueues a 1-D elementwise kernel over {@code items} work-items (rounded up to whole groups). */
    private void launch(String kernel, long items, Object... args) {
        long global = (items + ELEMENTWISE_GROUP - 1) / ELEMENTWISE_GROUP * ELEMENTWISE_GROUP;
        ClLaunch.run(dev.queue, elementwise.kernel(kernel), kernel, new long[] {global},
                new long[] {ELEMENTWISE_GROUP}, args);
    }
}
