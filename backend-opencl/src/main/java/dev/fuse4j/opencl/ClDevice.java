package dev.fuse4j.opencl;

import dev.fuse4j.kernels.DeviceMemory;
import dev.fuse4j.kernels.GpuDevice;
import dev.fuse4j.kernels.HostFloats;
import dev.fuse4j.kernels.QueuedCalls;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_event;
import org.jocl.cl_mem;
import org.jocl.cl_queue_properties;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import static org.jocl.CL.CL_COMPLETE;
import static org.jocl.CL.CL_CONTEXT_PLATFORM;
import static org.jocl.CL.CL_EVENT_COMMAND_EXECUTION_STATUS;
import static org.jocl.CL.CL_FALSE;
import static org.jocl.CL.CL_INVALID_BUFFER_SIZE;
import static org.jocl.CL.CL_MEM_OBJECT_ALLOCATION_FAILURE;
import static org.jocl.CL.CL_OUT_OF_HOST_MEMORY;
import static org.jocl.CL.CL_OUT_OF_RESOURCES;
import static org.jocl.CL.CL_MEM_COPY_HOST_PTR;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_TRUE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clCreateCommandQueueWithProperties;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clEnqueueCopyBuffer;
import static org.jocl.CL.clEnqueueFillBuffer;
import static org.jocl.CL.clEnqueueMarkerWithWaitList;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clEnqueueWriteBuffer;
import static org.jocl.CL.clFlush;
import static org.jocl.CL.clGetEventInfo;
import static org.jocl.CL.clReleaseEvent;
import static org.jocl.CL.clReleaseMemObject;
import static org.jocl.CL.clRetainEvent;
import static org.jocl.CL.clWaitForEvents;

/**
 * One OpenCL device in use: its context, its one in-order queue, the record of the work queued on it, buffers and
 * transfers, and the programs built for it. A call queues its commands through {@code calls.queue(...)} and returns;
 * the queue runs them in order, so a command sees the results of every command queued before it, and a buffer
 * released while commands still use it lives until they finish (OpenCL keeps it for them). Only a read to the host
 * waits. Every buffer is allocated through {@link DeviceMemory}, within the device's {@link ClMemoryBudget}.
 */
final class ClDevice implements GpuDevice<cl_mem> {
    /** Floats per chunk when a heap array is written through a direct buffer: 16 MiB. */
    private static final int STAGING_FLOATS = 1 << 22;
    final ClDeviceInfo info;
    final cl_context context;
    final cl_command_queue queue;
    final QueuedCalls<cl_event> calls;
    final ClProgramCache programs;
    private final DeviceMemory<cl_mem> memory;

    ClDevice(ClDeviceInfo info) {
        this(info, ClMemoryBudget.forDevice(info));
    }

    /** A device whose buffers keep within {@code budget}. */
    ClDevice(ClDeviceInfo info, DeviceMemory.Budget budget) {
        this.info = info;
        this.memory = new DeviceMemory<>("OpenCL device " + info.name(), budget, () -> -1, null);
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, info.platform());
        this.context = clCreateContext(props, 1, new cl_device_id[] {info.device()}, null, null, null);
        this.queue = clCreateCommandQueueWithProperties(context, info.device(), new cl_queue_properties(), null);
        this.calls = new QueuedCalls<>("OpenCL device " + info.name(), new EventMarkers(), () -> clFlush(queue));
        this.programs = new ClProgramCache(this);
    }

    @Override
    public QueuedCalls<cl_event> calls() {
        return calls;
    }

    @Override
    public DeviceMemory<cl_mem> memory() {
        return memory;
    }

    /** A new buffer of {@code floats} floats with unspecified contents; thread-safe in OpenCL, queues nothing. */
    @Override
    public cl_mem allocate(long floats) {
        return memory.allocate(floats * Sizeof.cl_float, bytes -> create(CL_MEM_READ_WRITE, bytes, null));
    }

    /** A new buffer holding a copy of {@code data}, copied before this returns: nothing is queued. */
    cl_mem upload(HostFloats data, long floats) {
        return memory.allocate(floats * Sizeof.cl_float,
                bytes -> create(CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, bytes, pointer(data)));
    }

    /** clCreateBuffer, or null where the device has no room for the buffer. */
    private cl_mem create(long flags, long bytes, Pointer host) {
        try {
            return clCreateBuffer(context, flags, bytes, host, null);
        } catch (CLException e) {
            int s = e.getStatus();
            if (s == CL_MEM_OBJECT_ALLOCATION_FAILURE || s == CL_OUT_OF_RESOURCES || s == CL_OUT_OF_HOST_MEMORY
                    || s == CL_INVALID_BUFFER_SIZE) {
                return null;
            }
            throw e;
        }
    }

    /** Releases {@code mem}; OpenCL keeps it until the commands queued with it have finished. */
    @Override
    public void free(cl_mem mem) {
        memory.release(mem);
        clReleaseMemObject(mem);
    }

    /**
     * A direct buffer in the native order is written straight from the caller's memory; other data goes through a
     * direct buffer of the host (not the device, which may be full), a chunk at a time. Each write is queued behind
     * the work queued so far and waited for outside the lock, so the caller may reuse its data on return.
     */
    @Override
    public void write(cl_mem mem, FloatBuffer src, Object what) {
        HostFloats h = HostFloats.source(src);
        int n = src.remaining();
        if (h.direct() != null) {
            writeAndWait(mem, 0, h.direct(), what);
            return;
        }
        FloatBuffer staging = ByteBuffer.allocateDirect(Math.min(n, STAGING_FLOATS) * Sizeof.cl_float)
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int done = 0; done < n; done += staging.capacity()) {
            int len = Math.min(staging.capacity(), n - done);
            staging.put(0, h.array(), h.offset() + done, len);
            writeAndWait(mem, (long) done * Sizeof.cl_float, staging.slice(0, len), what);
        }
    }

    /** Queues a write of all of {@code from} at byte {@code offset} of {@code mem} and waits for it. */
    private void writeAndWait(cl_mem mem, long offset, FloatBuffer from, Object what) {
        cl_event written = new cl_event();
        calls.queue(what, () -> {
            clEnqueueWriteBuffer(queue, mem, CL_FALSE, offset, (long) from.remaining() * Sizeof.cl_float,
                    Pointer.to(from), 0, null, written);
            clRetainEvent(written); // one reference for the record, one for the wait below
            calls.queued("copy from the host", written);
        });
        try {
            clWaitForEvents(1, new cl_event[] {written}); // without the lock: other threads keep queueing
        } catch (CLException e) {
            throw calls.failure("the wait of " + what, e.getMessage());
        } finally {
            clReleaseEvent(written);
            Reference.reachabilityFence(from); // its memory must outlive the write
        }
        calls.afterWait();
    }

    private static Pointer pointer(HostFloats h) {
        return h.direct() != null ? Pointer.to(h.direct())
                : Pointer.to(h.array()).withByteOffset((long) h.offset() * Sizeof.cl_float);
    }

    @Override
    public void copy(cl_mem src, cl_mem dst, long floats, Object what) {
        calls.queue(what, () -> {
            cl_event done = new cl_event();
            clEnqueueCopyBuffer(queue, src, dst, 0, 0, floats * Sizeof.cl_float, 0, null, done);
            calls.queued("copy on the device", done);
        });
    }

    /** Queues zeros into the first {@code floats} floats of {@code mem}, in the open call. */
    @Override
    public void fillZero(cl_mem mem, long floats) {
        cl_event done = new cl_event();
        clEnqueueFillBuffer(queue, mem, Pointer.to(new float[] {0f}), Sizeof.cl_float, 0, floats * Sizeof.cl_float,
                0, null, done);
        calls.queued("fill with zeros", done);
    }

    /**
     * Waits for the work queued so far, throwing for the first command of it that failed, then copies the first
     * {@code count} floats of {@code mem} to the host. {@code what} names the read in messages.
     */
    @Override
    public float[] read(cl_mem mem, int count, Object what) {
        float[] out = new float[count];
        readInto(mem, FloatBuffer.wrap(out), what);
        return out;
    }

    /** As {@link #read}, into {@code dst}: straight into a direct buffer of the native order or an array. */
    @Override
    public void readInto(cl_mem mem, FloatBuffer dst, Object what) {
        finish(what);
        HostFloats h = HostFloats.target(dst);
        try {
            clEnqueueReadBuffer(queue, mem, CL_TRUE, 0, (long) dst.remaining() * Sizeof.cl_float, pointer(h), 0,
                    null, null);
        } catch (CLException e) {
            throw calls.failure(what.toString(), e.getMessage());
        }
        h.finish(dst);
    }

    @Override
    public void finish(Object what) {
        cl_event queuedBefore = new cl_event();
        calls.queue(what, () -> clEnqueueMarkerWithWaitList(queue, 0, null, queuedBefore));
        try {
            clWaitForEvents(1, new cl_event[] {queuedBefore}); // without the lock: other threads keep queueing
        } catch (CLException e) {
            throw calls.failure("the wait of " + what, e.getMessage());
        } finally {
            clReleaseEvent(queuedBefore);
        }
        calls.afterWait();
    }

    /** OpenCL events as markers: a command's execution status is complete, running, or a negative error code. */
    private static final class EventMarkers implements QueuedCalls.Markers<cl_event> {
        @Override
        public QueuedCalls.Outcome outcome(cl_event event) {
            int[] status = new int[1];
            clGetEventInfo(event, CL_EVENT_COMMAND_EXECUTION_STATUS, Sizeof.cl_int, Pointer.to(status), null);
            if (status[0] == CL_COMPLETE) {
                return QueuedCalls.Outcome.DONE;
            }
            return status[0] > 0 ? QueuedCalls.Outcome.RUNNING
                    : QueuedCalls.Outcome.failed(CL.stringFor_errorCode(status[0]) + " (" + status[0] + ")");
        }

        @Override
        public void release(cl_event event) {
            clReleaseEvent(event);
        }
    }
}
