package dev.fuse4j.cuda;

import dev.fuse4j.kernels.CallName;
import dev.fuse4j.kernels.ElementwiseKernels;
import dev.fuse4j.kernels.GpuBackend;
import dev.fuse4j.kernels.KernelResources;
import dev.fuse4j.spi.Shapes;
import jcuda.driver.CUdeviceptr;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The fused layer and the training helpers on one CUDA device. Forward is one GEMM launch with the epilogue fused;
 * backward is two GEMM launches whose loaders form dz from dy and y, and a column sum for db. Every call queues its
 * work and returns; only calls that hand data to the host wait (see "How the GPU backends run work" in
 * docs/DESIGN.md).
 */
final class CudaBackend extends GpuBackend<CudaTensor, CUdeviceptr> {
    /** Threads per block of the elementwise kernels, and of sum2's one block (RED in elementwise.h). */
    private static final int ELEMENTWISE_BLOCK = 256;
    private static final int REDUCE_BLOCK = 256;

    private final CudaDevice dev;

    CudaBackend(String name, CudaDevice dev) {
        super(name, CudaTensor.class, dev, kernels(dev));
        this.dev = dev;
    }

    private static Kernels<CUdeviceptr> kernels(CudaDevice dev) {
        List<String> names = new ArrayList<>(CudaGemm.KERNELS);
        names.addAll(ElementwiseKernels.NAMES);
        CudaModuleCache.Loaded module = dev.modules.get(KernelResources.PTX, names);
        ElementwiseKernels<CUdeviceptr> elementwise = new ElementwiseKernels<>(
                k -> new CudaLaunch(dev, k, module.function(k)), ELEMENTWISE_BLOCK, REDUCE_BLOCK);
        return new Kernels<>(new CudaGemm(dev, module, elementwise), elementwise);
    }

    @Override
    public String device() {
        return dev.description + ", GEMM " + gemmDescription();
    }

    @Override
    protected CudaTensor allocate(int[] shape) {
        return new CudaTensor(this, dev, dev.allocate(Shapes.checkedSize(shape)), shape);
    }

    @Override
    protected CudaTensor upload(float[] data, int[] shape) {
        CudaTensor t = allocate(shape);
        try {
            dev.write(t.buffer(), FloatBuffer.wrap(data), new CallName("tensor", shape));
        } catch (RuntimeException | Error e) {
            t.close();
            throw e;
        }
        return t;
    }
}
