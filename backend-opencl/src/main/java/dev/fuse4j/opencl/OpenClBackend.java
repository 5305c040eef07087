package dev.fuse4j.opencl;

import dev.fuse4j.kernels.ElementwiseKernels;
import dev.fuse4j.kernels.GpuBackend;
import dev.fuse4j.kernels.HostFloats;
import dev.fuse4j.kernels.KernelResources;
import dev.fuse4j.spi.Shapes;
import org.jocl.cl_mem;

import java.nio.FloatBuffer;
import java.util.List;

/**
 * The fused layer and the training helpers on one OpenCL device. Forward is one GEMM launch with the epilogue
 * before the store; backward is two GEMM launches whose loaders form dz from dy and y (the dw launch also sums db).
 * Every call queues its work and returns; only calls that hand data to the host wait (see "How the GPU backends run
 * work" in docs/DESIGN.md).
 */
final class OpenClBackend extends GpuBackend<OpenClTensor, cl_mem> {
    /** Work-items per group of the elementwise kernels. */
    private static final int ELEMENTWISE_GROUP = 64;

    private final ClDevice dev;

    OpenClBackend(String name, ClDevice dev) {
        this(name, dev, TileConfig.tiersFor(dev.info));
    }

    /** A backend whose GEMM uses {@code tiers} only, largest first (one forces that tier, as tests do). */
    OpenClBackend(String name, ClDevice dev, List<TileConfig> tiers) {
        super(name, OpenClTensor.class, dev, kernels(dev, tiers));
        this.dev = dev;
    }

    private static Kernels<cl_mem> kernels(ClDevice dev, List<TileConfig> tiers) {
        // sum2 reduces in one group: a power of two the device allows.
        int reduceSize = Integer.highestOneBit((int) Math.min(256, dev.info.maxWorkGroupSize()));
        ClProgramCache.Built program = dev.programs.get(KernelResources.ELEMENTWISE, "-DRED=" + reduceSize,
                ElementwiseKernels.NAMES);
        ElementwiseKernels<cl_mem> elementwise = new ElementwiseKernels<>(k -> new ClLaunch(dev, program.kernel(k)),
                ELEMENTWISE_GROUP, reduceSize);
        return new Kernels<>(new ClGemm(dev, tiers, elementwise), elementwise);
    }

    @Override
    public String device() {
        return dev.info.describe() + ", GEMM tiles " + gemmDescription();
    }

    @Override
    protected OpenClTensor allocate(int[] shape) {
        return new OpenClTensor(this, dev, dev.allocate(Shapes.checkedSize(shape)), shape);
    }

    @Override
    protected OpenClTensor upload(float[] data, int[] shape) {
        return upload(FloatBuffer.wrap(data), shape);
    }

    /** The new buffer is filled from the caller's memory as it is created: nothing is queued, nothing waits. */
    @Override
    protected OpenClTensor upload(FloatBuffer data, int[] shape) {
        return new OpenClTensor(this, dev, dev.upload(HostFloats.source(data), data.remaining()), shape);
    }
}
