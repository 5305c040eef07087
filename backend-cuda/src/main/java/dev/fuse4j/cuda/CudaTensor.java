package dev.fuse4j.cuda;

import dev.fuse4j.Backend;
import dev.fuse4j.kernels.CallName;
import dev.fuse4j.spi.TensorBase;
import jcuda.driver.CUdeviceptr;

import java.nio.FloatBuffer;

/**
 * A tensor in device memory; {@code close()} (or the Cleaner, as a safety net) returns it to the device's pool,
 * which hands it out again only to work queued behind any work that still uses it.
 */
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
        return device.read(ptr, (int) size(), new CallName("toArray", shapeView()));
    }

    @Override
    protected void write(FloatBuffer src) {
        device.write(ptr, src, new CallName("copyFrom", shapeView()));
    }

    @Override
    protected void readInto(FloatBuffer dst) {
        device.readInto(ptr, dst, new CallName("copyTo", shapeView()));
    }
}
