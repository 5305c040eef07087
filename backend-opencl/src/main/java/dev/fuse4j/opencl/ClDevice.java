package dev.fuse4j.opencl;

import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_mem;
import org.jocl.cl_queue_properties;

import java.util.concurrent.locks.ReentrantLock;

import static org.jocl.CL.CL_CONTEXT_PLATFORM;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_TRUE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clCreateCommandQueueWithProperties;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clEnqueueFillBuffer;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clEnqueueWriteBuffer;
import static org.jocl.CL.clFinish;

/**
 * One OpenCL device in use: its context, one in-order queue, the lock that orders work on that queue, buffer
 * transfers and the programs built for it. Every enqueue sequence (arguments, launches, the final wait) runs under
 * {@link #lock}: kernel arguments are shared state, and holding the lock until {@code clFinish} means a call's
 * outputs are complete when it returns, whichever threads call at once.
 */
final class ClDevice {
    final ClDeviceInfo info;
    final cl_context context;
    final cl_command_queue queue;
    final ReentrantLock lock = new ReentrantLock();
    final ClProgramCache programs;
    /** Bound to kernel arguments a call does not use (OpenCL needs a valid buffer there). */
    final cl_mem unused;

    ClDevice(ClDeviceInfo info) {
        this.info = info;
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, info.platform());
        this.context = clCreateContext(props, 1, new cl_device_id[] {info.device()}, null, null, null);
        this.queue = clCreateCommandQueueWithProperties(context, info.device(), new cl_queue_properties(), null);
        this.programs = new ClProgramCache(this);
        this.unused = allocate(1);
    }

    /** A new buffer of {@code floats} floats; creating buffers is thread-safe in OpenCL and needs no lock. */
    cl_mem allocate(long floats) {
        return clCreateBuffer(context, CL_MEM_READ_WRITE, floats * Sizeof.cl_float, null, null);
    }

    void write(cl_mem mem, float[] data) {
        lock.lock();
        try {
            clEnqueueWriteBuffer(queue, mem, CL_TRUE, 0, (long) data.length * Sizeof.cl_float, Pointer.to(data), 0,
                    null, null);
        } finally {
            lock.unlock();
        }
    }

    void read(cl_mem mem, float[] into) {
        lock.lock();
        try {
            clEnqueueReadBuffer(queue, mem, CL_TRUE, 0, (long) into.length * Sizeof.cl_float, Pointer.to(into), 0,
                    null, null);
        } finally {
            lock.unlock();
        }
    }

    void fillZero(cl_mem mem, long floats) {
        lock.lock();
        try {
            clEnqueueFillBuffer(queue, mem, Pointer.to(new float[] {0f}), Sizeof.cl_float, 0,
                    floats * Sizeof.cl_float, 0, null, null);
            clFinish(queue);
        } finally {
            lock.unlock();
        }
    }

    /** Waits for everything enqueued so far; the caller holds {@link #lock}. */
    void finish() {
        clFinish(queue);
    }
}
