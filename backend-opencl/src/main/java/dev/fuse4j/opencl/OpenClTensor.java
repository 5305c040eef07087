package dev.fuse4j.opencl;

import dev.fuse4j.Backend;
import dev.fuse4j.kernels.CallName;
import dev.fuse4j.spi.TensorBase;
import org.jocl.cl_mem;

import java.nio.FloatBuffer;

/**
 * A tensor in an OpenCL buffer of its device; {@code close()} (or the Cleaner, as a safety net) releases it, and
 * OpenCL keeps the buffer for any queued command that still uses it.
 */
final class OpenClTensor extends TensorBase {
    final cl_mem mem;
    private final ClDevice device;

    OpenClTensor(Backend owner, ClDevice device, cl_mem mem, int[] shape) {
        super(owner, shape, () -> device.free(mem));
        this.mem = mem;
        this.device = device;
    }

    @Override
    protected float[] read() {
        return device.read(mem, (int) size(), new CallName("toArray", shapeView()));
    }

    @Override
    protected void write(FloatBuffer src) {
        device.write(mem, src, new CallName("copyFrom", shapeView()));
    }

    @Override
    protected void readInto(FloatBuffer dst) {
        device.readInto(mem, dst, new CallName("copyTo", shapeView()));
    }
}
