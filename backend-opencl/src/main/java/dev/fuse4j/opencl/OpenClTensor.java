package dev.fuse4j.opencl;

import dev.fuse4j.Backend;
import dev.fuse4j.spi.TensorBase;
import org.jocl.cl_mem;

import static org.jocl.CL.clReleaseMemObject;

/** A tensor in an OpenCL buffer of its device; {@code close()} (or the Cleaner, as a safety net) releases it. */
final class OpenClTensor extends TensorBase {
    final cl_mem mem;
    private final ClDevice device;

    OpenClTensor(Backend owner, ClDevice device, int[] shape) {
        this(owner, device, device.allocate(count(shape)), shape);
    }

    private OpenClTensor(Backend owner, ClDevice device, cl_mem mem, int[] shape) {
        super(owner, shape, () -> clReleaseMemObject(mem));
        this.mem = mem;
        this.device = device;
    }

    private static long count(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    protected float[] read() {
        float[] out = new float[(int) size()];
        device.read(mem, out);
        return out;
    }
}
