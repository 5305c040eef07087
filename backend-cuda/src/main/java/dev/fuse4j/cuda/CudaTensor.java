package dev.fuse4j.cuda;

import dev.fuse4j.Backend;
import dev.fuse4j.kernels.GpuTensor;
import jcuda.driver.CUdeviceptr;

/**
 * A tensor in device memory; closing it returns the buffer to the device's pool, which hands it out again only to
 * work queued behind any work that still uses it.
 */
final class CudaTensor extends GpuTensor<CUdeviceptr> {
    CudaTensor(Backend owner, CudaDevice device, CUdeviceptr ptr, int[] shape) {
        super(owner, device, ptr, shape);
    }
}
