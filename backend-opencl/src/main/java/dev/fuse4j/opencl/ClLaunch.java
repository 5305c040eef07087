package dev.fuse4j.opencl;

import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clSetKernelArg;

/**
 * Sets a kernel's arguments and enqueues it. A {@code cl_kernel}'s arguments are shared state, so callers hold the
 * device lock from the first argument to the enqueue. Arguments: {@code cl_mem}, Integer (int and uint), Long
 * (long and ulong), Float.
 */
final class ClLaunch {
    private ClLaunch() {
    }

    static void run(cl_command_queue queue, cl_kernel kernel, String name, long[] global, long[] local,
                    Object... args) {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof cl_mem m) {
                clSetKernelArg(kernel, i, Sizeof.cl_mem, Pointer.to(m));
            } else if (a instanceof Integer v) {
                clSetKernelArg(kernel, i, Sizeof.cl_int, Pointer.to(new int[] {v}));
            } else if (a instanceof Long v) {
                clSetKernelArg(kernel, i, Sizeof.cl_long, Pointer.to(new long[] {v}));
            } else if (a instanceof Float v) {
                clSetKernelArg(kernel, i, Sizeof.cl_float, Pointer.to(new float[] {v}));
            } else {
                throw new IllegalArgumentException("kernel " + name + " argument " + i + " has unsupported type "
                        + (a == null ? "null" : a.getClass().getName()));
            }
        }
        clEnqueueNDRangeKernel(queue, kernel, global.length, null, global, local, 0, null, null);
    }
}
