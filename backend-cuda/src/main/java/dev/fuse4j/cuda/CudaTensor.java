package dev.fuse4j.cuda;

import dev.fuse4j.Backend;
import dev.fuse4j.spi.TensorBase;
import jcuda.driver.CUdeviceptr;

/** A tensor in device memory; {@code close()} frees it. */
final class CudaTensor extends TensorBase {
    final CUdeviceptr ptr;
    private final CudaDevice device;

    CudaTensor(Backend owner, CudaDevice device, CUdeviceptr ptr, int[] shape) {
        super(owner, shape, () -> device.free(ptr));
        this.ptr = ptr;
        this.device = device;
    }

    @Override
    protected float[] read() {
        float[] out = new float[(int) size()];
        device.read(ptr, out);
        return out;
    }
}
