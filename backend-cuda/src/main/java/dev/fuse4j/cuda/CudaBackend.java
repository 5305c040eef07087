package dev.fuse4j.cuda;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.kernels.CallName;
import dev.fuse4j.kernels.ElementwiseKernels;
import dev.fuse4j.kernels.KernelResources;
import dev.fuse4j.spi.AbstractBackend;
import dev.fuse4j.spi.LinearShape;
import dev.fuse4j.spi.Shapes;
import jcuda.driver.CUdeviceptr;

import java.util.ArrayList;
import java.util.List;

/**
 * The fused layer and the training helpers on one CUDA device. Forward is one GEMM launch with the epilogue fused;
 * backward is two GEMM launches whose loaders form dz from dy and y, and a column sum for db. Every call queues its
 * work and returns; only calls that hand data to the host wait (see docs/gpu-execution.md).
 */
final class CudaBackend extends AbstractBackend<CudaTensor> {
    /** Threads per block of the elementwise kernels, and of sum2's one block (RED in elementwise.h). */
    private static final int ELEMENTWISE_BLOCK = 256;
    private static final int REDUCE_BLOCK = 256;

    private final CudaDevice dev;
    private final ElementwiseKernels<CUdeviceptr> elementwise;
    private final CudaGemm gemm;

    CudaBackend(String name, CudaDevice dev) {
        super(name, CudaTensor.class);
        this.dev = dev;
        List<String> kernels = new ArrayList<>(CudaGemm.KERNELS);
        kernels.addAll(ElementwiseKernels.NAMES);
        CudaModuleCache.Loaded module = dev.modules.get(KernelResources.PTX, kernels);
        this.elementwise = new ElementwiseKernels<>(k -> new CudaLaunch(dev, k, module.function(k)),
                ELEMENTWISE_BLOCK, REDUCE_BLOCK);
        this.gemm = new CudaGemm(dev, module, elementwise);
    }

    @Override
    public String device() {
        return dev.description;
    }

    @Override
    protected CudaTensor allocate(int[] shape) {
        return new CudaTensor(this, dev, dev.allocate(Shapes.checkedSize(shape)), shape);
    }

    @Override
    protected CudaTensor upload(float[] data, int[] shape) {
        CudaTensor t = allocate(shape);
        try {
            dev.calls.queue(new CallName("tensor", shape), () -> dev.upload(t.ptr, data));
        } catch (RuntimeException | Error e) {
            t.close();
            throw e;
        }
        return t;
    }

    @Override
    protected CudaTensor allocateZeros(int[] shape) {
        CudaTensor t = allocate(shape);
        try {
            dev.calls.queue(new CallName("zeros", shape), () -> dev.fillZero(t.ptr, t.size()));
        } catch (RuntimeException | Error e) {
            t.close();
            throw e;
        }
        return t;
    }

    @Override
    protected void forward(LinearShape s, CudaTensor x, CudaTensor w, CudaTensor b, Activation act, Dropout d,
                           CudaTensor y, CudaTensor z) {
        dev.calls.queue(new CallName("linear", s, act, d),
                () -> gemm.forward(s, x.ptr, w.ptr, b.ptr, y.ptr, z == null ? null : z.ptr, act, d));
    }

    @Override
    protected void backward(LinearShape s, CudaTensor dy, CudaTensor x, CudaTensor w, CudaTensor y, CudaTensor z,
                            Activation act, Dropout d, CudaTensor dx, CudaTensor dw, CudaTensor db) {
        CUdeviceptr zp = z == null ? null : z.ptr;
        dev.calls.queue(new CallName("linearBackward", s, act, d), () -> {
            if (dx != null) {
                gemm.dx(s, dy.ptr, y.ptr, zp, w.ptr, dx.ptr, act, d);
            }
            gemm.dw(s, dy.ptr, y.ptr, zp, x.ptr, dw.ptr, db.ptr, act, d);
        });
    }

    @Override
    protected void mask(int rows, int cols, Dropout d, CudaTensor out) {
        dev.calls.queue(new CallName("dropoutMask", rows + "x" + cols, d),
                () -> elementwise.dropoutMask((long) rows * cols, out.ptr, d));
    }

    @Override
    protected double[] crossEntropy(int n, int classes, CudaTensor logits, CudaTensor labels, CudaTensor grad) {
        CallName call = new CallName("softmaxCrossEntropy", n + "x" + classes);
        CUdeviceptr rowLoss = dev.allocate(n);
        CUdeviceptr rowCorrect = dev.allocate(n);
        CUdeviceptr sums = dev.allocate(2);
        try {
            dev.calls.queue(call, () -> {
                elementwise.softmaxCrossEntropyRows(n, classes, logits.ptr, labels.ptr, grad.ptr, rowLoss,
                        rowCorrect);
                elementwise.sum2(n, rowLoss, rowCorrect, sums);
            });
            float[] two = dev.read(sums, 2, call); // only the two sums cross to the host
            return new double[] {two[0] / n, Math.round(two[1])};
        } finally {
            dev.free(rowLoss);
            dev.free(rowCorrect);
            dev.free(sums);
        }
    }

    @Override
    protected void sgd(CudaTensor param, CudaTensor grad, CudaTensor velocity, float lr, float momentum, float wd) {
        int len = (int) param.size();
        dev.calls.queue(new CallName("sgdStep", param.shapeView()),
                () -> elementwise.sgd(len, param.ptr, grad.ptr, velocity.ptr, lr, momentum, wd));
    }

    @Override
    protected void adam(CudaTensor param, CudaTensor grad, CudaTensor m, CudaTensor v, float lr, float beta1,
                        float beta2, float eps, float wd, long step) {
        int len = (int) param.size();
        dev.calls.queue(new CallName("adamStep", param.shapeView()),
                () -> elementwise.adam(len, param.ptr, grad.ptr, m.ptr, v.ptr, lr, beta1, beta2, eps, wd, step));
    }
}
