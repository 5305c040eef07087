package dev.fuse4j.opencl;

import dev.fuse4j.kernels.Launch;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_event;
import org.jocl.cl_mem;

import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clSetKernelArg;

/**
 * One launch of an OpenCL kernel: each argument is set as it is appended, then the kernel is queued and recorded
 * with the open call. A kernel's arguments are shared state, so the call stays open (its device lock held) from
 * the first argument to the enqueue.
 */
final class ClLaunch extends Launch<cl_mem, ClLaunch> {
    private final ClDevice dev;
    private final ClProgramCache.Kernel kernel;
    private int index;

    ClLaunch(ClDevice dev, ClProgramCache.Kernel kernel) {
        this.dev = dev;
        this.kernel = kernel;
    }

    @Override
    public ClLaunch buffer(cl_mem mem) {
        clSetKernelArg(kernel.handle(), index++, Sizeof.cl_mem, mem == null ? null : Pointer.to(mem));
        return this;
    }

    @Override
    public ClLaunch i32(int value) {
        clSetKernelArg(kernel.handle(), index++, Sizeof.cl_int, Pointer.to(new int[] {value}));
        return this;
    }

    @Override
    public ClLaunch i64(long value) {
        clSetKernelArg(kernel.handle(), index++, Sizeof.cl_long, Pointer.to(new long[] {value}));
        return this;
    }

    @Override
    public ClLaunch f32(float value) {
        clSetKernelArg(kernel.handle(), index++, Sizeof.cl_float, Pointer.to(new float[] {value}));
        return this;
    }

    @Override
    public void run(long groups, int size) {
        run(new long[] {groups * size}, new long[] {size});
    }

    /** Queues the kernel over {@code global} work-items in groups of {@code local} (1 to 3 dimensions). */
    void run(long[] global, long[] local) {
        if (index != kernel.argCount()) {
            throw new IllegalStateException("kernel " + kernel.name() + " takes " + kernel.argCount()
                    + " arguments but " + index + " were given");
        }
        cl_event done = new cl_event();
        clEnqueueNDRangeKernel(dev.queue, kernel.handle(), global.length, null, global, local, 0, null, done);
        dev.calls.queued(kernel.name(), done);
    }
}
