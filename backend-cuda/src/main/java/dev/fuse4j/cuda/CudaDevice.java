package dev.fuse4j.cuda;

import dev.fuse4j.kernels.DeviceMemory;
import dev.fuse4j.kernels.GpuDevice;
import dev.fuse4j.kernels.HostFloats;
import dev.fuse4j.kernels.QueuedCalls;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

import java.nio.FloatBuffer;
import java.util.ArrayDeque;

import static jcuda.driver.CUevent_flags.CU_EVENT_DISABLE_TIMING;
import static jcuda.driver.CUstream_flags.CU_STREAM_NON_BLOCKING;
import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventQuery;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamCreate;

/**
 * One CUDA device in use: its primary context (made current on whichever thread calls), its one stream, the record
 * of the work queued on it, buffers and transfers, and the kernels loaded for it. A call queues its work under
 * {@code calls.queue(...)} and returns; the stream runs it in order, so work sees the results of all work queued
 * before it, and a buffer handed back to the pool while queued work still uses it is safe to hand out again: its
 * next user is queued behind that work. Only a read to the host waits. Every driver call goes through a check
 * that turns a CUresult into a message naming the call and the device.
 */
final class CudaDevice implements GpuDevice<CUdeviceptr> {
    /** Idle events kept for reuse: one is recorded per queued command. */
    private static final int IDLE_EVENTS = 256;

    final String name;
    final CudaDriver.DeviceInfo info;
    final String description;
    final CUstream stream = new CUstream();
    final QueuedCalls<CUevent> calls;
    final CudaModuleCache modules;
    private final CUcontext context = new CUcontext();
    /** Up to a quarter of the device's memory (at most 4 GiB) of freed buffers is kept for reuse. */
    private final DeviceMemoryPool pool;
    /** Every buffer allocated from the driver, live or pooled, with its rounded size; the rule when one fails. */
    private final DeviceMemory<CUdeviceptr> memory;
    private final ArrayDeque<CUevent> idleEvents = new ArrayDeque<>();

    CudaDevice(String name, CudaDriver.DeviceInfo info, int driverVersion) {
        this.name = name;
        this.info = info;
        this.description = info.describe(driverVersion);
        this.pool = new DeviceMemoryPool(Math.min(info.memoryBytes() / 4, 4L << 30));
        this.memory = new DeviceMemory<>(name + " (" + info.name() + ")", new DriverDecides(), this::driverFreeBytes,
                () -> pool.drain(this::release));
        this.calls = new QueuedCalls<>(name + " (" + info.name() + ")", new EventMarkers(), () -> { });
        this.modules = new CudaModuleCache(this);
        check("cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain(context, info.device()));
        try {
            makeCurrent();
            // Non-blocking: the legacy default stream's copies of finished results do not wait for queued work.
            check("cuStreamCreate", cuStreamCreate(stream, CU_STREAM_NON_BLOCKING));
        } catch (RuntimeException e) {
            abandon();
            throw e;
        }
    }

    /** For a device that will not be used after all: hands its primary context back (stream and modules go too). */
    void abandon() {
        cuDevicePrimaryCtxRelease(info.device());
    }

    @Override
    public QueuedCalls<CUevent> calls() {
        return calls;
    }

    void makeCurrent() {
        check("cuCtxSetCurrent", cuCtxSetCurrent(context));
    }

    /** Throws for a driver call that failed by itself (creating, loading, allocating). */
    void check(String call, int rc) {
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException(call + " failed on " + name + " (" + info.name() + "): "
                    + CUresult.stringFor(rc));
        }
    }

    /**
     * Throws for a call that queues or waits: CUDA reports an error of earlier queued work at the next such call,
     * so the failure names the queued call to blame, and {@code what} only when nothing was outstanding.
     */
    void checkQueued(String what, int rc) {
        if (rc != CUresult.CUDA_SUCCESS) {
            throw calls.failure(what, CUresult.stringFor(rc) + " (CUDA reports the error of any queued work "
                    + "at a later call: the first call not seen to finish is named)");
        }
    }

    @Override
    public DeviceMemory<CUdeviceptr> memory() {
        return memory;
    }

    /**
     * A buffer of {@code floats} floats, from the pool when one of the size is cached. When the driver is out of
     * memory, the scratch buffers and the pool are given back and the allocation tried once more, then refused.
     */
    @Override
    public CUdeviceptr allocate(long floats) {
        long bytes = DeviceMemoryPool.roundUp(Math.max(1, floats) * Sizeof.FLOAT);
        CUdeviceptr p = pool.take(bytes);
        if (p != null) {
            return p;
        }
        return memory.allocate(bytes, b -> {
            makeCurrent();
            CUdeviceptr fresh = new CUdeviceptr();
            int rc = cuMemAlloc(fresh, b);
            if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
                return null;
            }
            check("cuMemAlloc(" + b + " bytes)", rc);
            return fresh;
        });
    }

    /** What cuMemGetInfo says is free, for the message of a refusal. */
    private long driverFreeBytes() {
        makeCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        return cuMemGetInfo(free, total) == CUresult.CUDA_SUCCESS ? free[0] : -1;
    }

    /** Returns a buffer from any thread (the Cleaner's included) to the pool, or to the driver when it is full. */
    @Override
    public void free(CUdeviceptr p) {
        long bytes = memory.sizeOf(p);
        if (bytes > 0 && pool.give(p, bytes)) {
            return;
        }
        release(p);
    }

    /** cuMemFree waits for the work queued on the device, so a buffer queued work still uses is freed after it. */
    private void release(CUdeviceptr p) {
        memory.release(p);
        makeCurrent();
        check("cuMemFree", cuMemFree(p));
    }

    /**
     * Queues a copy of {@code src} into {@code p} behind the work queued so far. An array is staged by the driver
     * before the copy call returns (pageable memory); a direct buffer could be pinned memory, which the driver
     * reads later, so this waits for that copy (outside the lock) before the caller may reuse it.
     */
    @Override
    public void write(CUdeviceptr p, FloatBuffer src, Object what) {
        HostFloats h = HostFloats.source(src);
        long bytes = (long) src.remaining() * Sizeof.FLOAT;
        makeCurrent();
        CUevent copied = calls.queueAndGet(what, () -> {
            checkQueued(what.toString(), cuMemcpyHtoDAsync(p, pointer(h), bytes, stream));
            calls.queued("copy from the host", recordEvent());
            return h.direct() != null ? recordEvent() : null;
        });
        if (copied != null) {
            int rc = cuEventSynchronize(copied);
            recycle(copied);
            checkQueued("the wait of " + what, rc);
            calls.afterWait();
        }
    }

    /** Waits for the work queued so far, then copies into {@code dst}: a direct buffer of the native order as is. */
    @Override
    public void readInto(CUdeviceptr p, FloatBuffer dst, Object what) {
        finish(what);
        HostFloats h = HostFloats.target(dst);
        checkQueued(what.toString(), cuMemcpyDtoH(pointer(h), p, (long) dst.remaining() * Sizeof.FLOAT));
        h.finish(dst);
    }

    private static Pointer pointer(HostFloats h) {
        return h.direct() != null ? Pointer.to(h.direct())
                : Pointer.to(h.array()).withByteOffset((long) h.offset() * Sizeof.FLOAT);
    }

    @Override
    public void copy(CUdeviceptr src, CUdeviceptr dst, long floats, Object what) {
        makeCurrent();
        calls.queue(what, () -> {
            checkQueued(what.toString(), cuMemcpyDtoDAsync(dst, src, floats * Sizeof.FLOAT, stream));
            calls.queued("copy on the device", recordEvent());
        });
    }

    /** Queues zeros into the first {@code floats} floats of {@code p}, in the open call. */
    @Override
    public void fillZero(CUdeviceptr p, long floats) {
        makeCurrent();
        checkQueued("cuMemsetD32Async", cuMemsetD32Async(p, 0, floats, stream));
        calls.queued("fill with zeros", recordEvent());
    }

    /**
     * Waits for the work queued so far, throwing for the first call whose work failed, then copies the first
     * {@code count} floats of {@code p} to the host. {@code what} names the read in messages.
     */
    @Override
    public float[] read(CUdeviceptr p, int count, Object what) {
        float[] out = new float[count];
        // On the legacy stream, which this device's non-blocking stream does not wait for: the data is final.
        readInto(p, FloatBuffer.wrap(out), what);
        return out;
    }

    @Override
    public void finish(Object what) {
        makeCurrent();
        CUevent queuedBefore = calls.queueAndGet(what, this::recordEvent);
        int rc = cuEventSynchronize(queuedBefore); // without the lock: other threads keep queueing
        recycle(queuedBefore);
        checkQueued("the wait of " + what, rc);
        calls.afterWait();
    }

    /** An event recorded on the stream now, from the idle ones when there is one; under an open call. */
    CUevent recordEvent() {
        CUevent e;
        synchronized (idleEvents) {
            e = idleEvents.pollLast();
        }
        if (e == null) {
            e = new CUevent();
            check("cuEventCreate", cuEventCreate(e, CU_EVENT_DISABLE_TIMING));
        }
        checkQueued("cuEventRecord", cuEventRecord(e, stream));
        return e;
    }

    private void recycle(CUevent e) {
        synchronized (idleEvents) {
            if (idleEvents.size() < IDLE_EVENTS) {
                idleEvents.addLast(e);
                return;
            }
        }
        cuEventDestroy(e);
    }

    /** CUDA's own limit is the device's memory: the driver refuses what does not fit, and the rule retries. */
    private static final class DriverDecides implements DeviceMemory.Budget {
        @Override
        public long limitBytes(long inUse, boolean fresh) {
            return Long.MAX_VALUE;
        }

        @Override
        public String describe() {
            return "the device's memory";
        }
    }

    /** CUDA events as markers: an event query answers done, not ready, or the error of the work before it. */
    private final class EventMarkers implements QueuedCalls.Markers<CUevent> {
        @Override
        public QueuedCalls.Outcome outcome(CUevent event) {
            int rc = cuEventQuery(event);
            if (rc == CUresult.CUDA_SUCCESS) {
                return QueuedCalls.Outcome.DONE;
            }
            return rc == CUresult.CUDA_ERROR_NOT_READY ? QueuedCalls.Outcome.RUNNING
                    : QueuedCalls.Outcome.failed(CUresult.stringFor(rc));
        }

        @Override
        public void release(CUevent event) {
            recycle(event);
        }
    }
}
