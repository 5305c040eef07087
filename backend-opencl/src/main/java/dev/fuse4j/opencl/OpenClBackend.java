package dev.fuse4j.opencl;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.kernels.CallName;
import dev.fuse4j.kernels.ElementwiseKernels;
import dev.fuse4j.kernels.KernelResources;
import dev.fuse4j.spi.AbstractBackend;
import dev.fuse4j.spi.LinearShape;
import dev.fuse4j.spi.Shapes;
import org.jocl.cl_mem;

import java.util.List;

import static org.jocl.CL.clReleaseMemObject;

/**
 * The fused layer and the training helpers on one OpenCL device. Forward is one GEMM launch with the epilogue
 * before the store; backward is two GEMM launches whose loaders form dz from dy and y (the dw launch also sums db).
 * Every call queues its work and returns; only calls that hand data to the host wait (see docs/gpu-execution.md).
 */
final class OpenClBackend extends AbstractBackend<OpenClTensor> {
    /** Work-items per group of the elementwise kernels. */
    private static final int ELEMENTWISE_GROUP = 64;

    private final ClDevice dev;
    private final ElementwiseKernels<cl_mem> elementwise;
    private final ClGemm gemm;

    OpenClBackend(String name, ClDevice dev) {
        this(name, dev, TileConfig.tiersFor(dev.info));
    }

    /** A backend whose GEMM uses {@code tiers} only, largest first (one forces that tier, as tests do). */
    OpenClBackend(String name, ClDevice dev, List<TileConfig> tiers) {
        super(name, OpenClTensor.class);
        this.dev = dev;
        // sum2 reduces in one group: a power of two the device allows.
        int reduceSize = Integer.highestOneBit((int) Math.min(256, dev.info.maxWorkGroupSize()));
        ClProgramCache.Built program = dev.programs.get(KernelResources.ELEMENTWISE, "-DRED=" + reduceSize,
                ElementwiseKernels.NAMES);
        this.elementwise = new ElementwiseKernels<>(k -> new ClLaunch(dev, program.kernel(k)), ELEMENTWISE_GROUP,
                reduceSize);
        this.gemm = new ClGemm(dev, tiers, elementwise);
    }

    @Override
    public String device() {
        return dev.info.describe() + ", GEMM tiles " + gemm.describe();
    }

    @Override
    protected OpenClTensor allocate(int[] shape) {
        return new OpenClTensor(this, dev, dev.allocate(Shapes.checkedSize(shape)), shape);
    }

    @Override
    protected OpenClTensor upload(float[] data, int[] shape) {
        return new OpenClTensor(this, dev, dev.upload(data), shape);
    }

    @Override
    protected OpenClTensor allocateZeros(int[] shape) {
        OpenClTensor t = allocate(shape);
        try {
            dev.calls.queue(new CallName("zeros", shape), () -> dev.fillZero(t.mem, t.size()));
        } catch (RuntimeException | Error e) {
            t.close();
            throw e;
        }
        return t;
    }

    @Override
    protected void forward(LinearShape s, OpenClTensor x, OpenClTensor w, OpenClTensor b, Activation act, Dropout d,
                           OpenClTensor y, OpenClTensor z) {
        dev.calls.queue(new CallName("linear", s, act, d),
                () -> gemm.forward(s, x.mem, w.mem, b.mem, y.mem, z == null ? null : z.mem, act, d));
    }

    @Override
    protected void backward(LinearShape s, OpenClTensor dy, OpenClTensor x, OpenClTensor w, OpenClTensor y,
                            OpenClTensor z, Activation act, Dropout d, OpenClTensor dx, OpenClTensor dw,
                            OpenClTensor db) {
        cl_mem zm = z == null ? null : z.mem;
        dev.calls.queue(new CallName("linearBackward", s, act, d), () -> {
            if (dx != null) {
                gemm.dx(s, dy.mem, y.mem, zm, w.mem, dx.mem, act, d);
            }
            gemm.dw(s, dy.mem, y.mem, zm, x.mem, dw.mem, db.mem, act, d);
        });
    }

    @Override
    protected void mask(int rows, int cols, Dropout d, OpenClTensor out) {
        dev.calls.queue(new CallName("dropoutMask", rows + "x" + cols, d),
                () -> elementwise.dropoutMask((long) rows * cols, out.mem, d));
    }

    @Override
    protected double[] crossEntropy(int n, int classes, OpenClTensor logits, OpenClTensor labels,
                                    OpenClTensor grad) {
        CallName call = new CallName("softmaxCrossEntropy", n + "x" + classes);
        cl_mem rowLoss = dev.allocate(n);
        cl_mem rowCorrect = dev.allocate(n);
        cl_mem sums = dev.allocate(2);
        try {
            dev.calls.queue(call, () -> {
                elementwise.softmaxCrossEntropyRows(n, classes, logits.mem, labels.mem, grad.mem, rowLoss,
                        rowCorrect);
                elementwise.sum2(n, rowLoss, rowCorrect, sums);
            });
            float[] two = dev.read(sums, 2, call); // only the two sums cross to the host
            return new double[] {two[0] / n, Math.round(two[1])};
        } finally {
            clReleaseMemObject(rowLoss);
            clReleaseMemObject(rowCorrect);
            clReleaseMemObject(sums);
        }
    }

    @Override
    protected void sgd(OpenClTensor param, OpenClTensor grad, OpenClTensor velocity, float lr, float momentum,
                       float wd) {
        int len = (int) param.size();
        dev.calls.queue(new CallName("sgdStep", param.shapeView()),
                () -> elementwise.sgd(len, param.mem, grad.mem, velocity.mem, lr, momentum, wd));
    }

    @Override
    protected void adam(OpenClTensor param, OpenClTensor grad, OpenClTensor m, OpenClTensor v, float lr, float beta1,
                        float beta2, float eps, float wd, long step) {
        int len = (int) param.size();
        dev.calls.queue(new CallName("adamStep", param.shapeView()),
                () -> elementwise.adam(len, param.mem, grad.mem, m.mem, v.mem, lr, beta1, beta2, eps, wd, step));
    }
}
