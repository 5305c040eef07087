package dev.fuse4j.cuda;

import dev.fuse4j.kernels.Launch;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;

import java.util.ArrayList;
import java.util.List;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;

/**
 * One launch of a CUDA kernel: arguments collected as they are appended, then the kernel is queued on the device's
 * stream and recorded with the open call.
 */
final class CudaLaunch extends Launch<CUdeviceptr, CudaLaunch> {
    private static final CUdeviceptr NULL = new CUdeviceptr();

    private final CudaDevice dev;
    private final String name;
    private final CUfunction function;
    private final List<Pointer> params = new ArrayList<>(20);

    CudaLaunch(CudaDevice dev, String name, CUfunction function) {
        this.dev = dev;
        this.name = name;
        this.function = function;
    }

    @Override
    public CudaLaunch buffer(CUdeviceptr p) {
        params.add(Pointer.to(p == null ? NULL : p));
        return this;
    }

    @Override
    public CudaLaunch i32(int value) {
        params.add(Pointer.to(new int[] {value}));
        return this;
    }

    @Override
    public CudaLaunch i64(long value) {
        params.add(Pointer.to(new long[] {value}));
        return this;
    }

    @Override
    public CudaLaunch f32(float value) {
        params.add(Pointer.to(new float[] {value}));
        return this;
    }

    @Override
    public void run(long groups, int size) {
        run(Math.toIntExact(groups), 1, 1, size);
    }

    /** Queues the kernel over a {@code gridX × gridY × gridZ} grid of blocks of {@code block} threads. */
    void run(int gridX, int gridY, int gridZ, int block) {
        dev.makeCurrent();
        dev.checkQueued("cuLaunchKernel(" + name + ", grid " + gridX + "x" + gridY + "x" + gridZ + ", block "
                        + block + ")", cuLaunchKernel(function, gridX, gridY, gridZ, block, 1, 1, 0, dev.stream,
                Pointer.to(params.toArray(new Pointer[0])), null));
        dev.calls.queued(name, dev.recordEvent());
    }
}
