package dev.fuse4j.opencl;

import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;
import org.jocl.cl_queue_properties;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

import static org.jocl.CL.CL_CONTEXT_PLATFORM;
import static org.jocl.CL.CL_KERNEL_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;
import static org.jocl.CL.CL_TRUE;
import static org.jocl.CL.clBuildProgram;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clCreateCommandQueueWithProperties;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clCreateKernel;
import static org.jocl.CL.clCreateProgramWithSource;
import static org.jocl.CL.clEnqueueFillBuffer;
import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clEnqueueWriteBuffer;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clGetKernelWorkGroupInfo;
import static org.jocl.CL.clGetProgramBuildInfo;
import static org.jocl.CL.clReleaseKernel;
import static org.jocl.CL.clReleaseProgram;

/**
 * One OpenCL device in use: its context, one in-order queue, the program built once for it (tile sizes chosen
 * from its limits) and the kernels. Every enqueue sequence runs under one lock, because a {@code cl_kernel}'s
 * arguments are shared state: that is what makes a backend safe to call from several threads.
 */
final class ClDevice {
    static final String KERNEL_DIR = "/dev/fuse4j/kernels/";
    private static final System.Logger LOG = System.getLogger("dev.fuse4j");

    final ClDeviceInfo info;
    final cl_context context;
    final cl_command_queue queue;
    final TileConfig tiles;
    final int reduceSize;
    final ReentrantLock lock = new ReentrantLock();
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    /** Bound to kernel arguments a call does not use (OpenCL needs a valid buffer there). */
    final cl_mem unused;

    ClDevice(ClDeviceInfo info) {
        this.info = info;
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, info.platform());
        this.context = clCreateContext(props, 1, new cl_device_id[] {info.device()}, null, null, null);
        this.queue = clCreateCommandQueueWithProperties(context, info.device(), new cl_queue_properties(), null);
        this.reduceSize = Integer.highestOneBit((int) Math.min(256, info.maxWorkGroupSize()));
        TileConfig chosen = TileConfig.choose(info.maxWorkGroupSize(), info.localMemBytes());
        cl_program program = build(chosen);
        // The compiler may allow fewer work-items per group than the device (register pressure): step down.
        while (kernelWorkGroupSize(program, "gemm") < chosen.workGroupSize()) {
            long allowed = kernelWorkGroupSize(program, "gemm");
            clReleaseProgram(program);
            chosen = TileConfig.choose(allowed, info.localMemBytes());
            program = build(chosen);
        }
        this.tiles = chosen;
        for (String k : new String[] {"gemm", "bias_grad", "dropout_mask", "softmax_xent_rows", "sum2", "sgd_step",
            "adam_step"}) {
            kernels.put(k, clCreateKernel(program, k, null));
        }
        clReleaseProgram(program); // the kernels keep it alive
        this.unused = clCreateBuffer(context, CL_MEM_READ_WRITE, Sizeof.cl_float, null, null);
        LOG.log(System.Logger.Level.DEBUG, "OpenCL program built for {0} with {1}", info.name(), tiles.buildOptions());
    }

    private cl_program build(TileConfig t) {
        String source = resource("fuse4j_common.h") + "\n" + resource("fuse4j.cl");
        String options = t.buildOptions() + " -DRED=" + reduceSize;
        cl_program program = clCreateProgramWithSource(context, 1, new String[] {source}, null, null);
        try {
            clBuildProgram(program, 1, new cl_device_id[] {info.device()}, options, null, null);
        } catch (CLException e) {
            String log = buildLog(program);
            clReleaseProgram(program);
            throw new IllegalStateException("OpenCL build of fuse4j.cl failed on " + info.name() + " (" + info.platformName()
                    + ") with options '" + options + "': " + e.getMessage() + "\nbuild log:\n" + log, e);
        }
        return program;
    }

    /** Compiles {@code source} on this device, only to surface the build log: used by tests of the error path. */
    void buildForDiagnostics(String source, String options) {
        cl_program program = clCreateProgramWithSource(context, 1, new String[] {source}, null, null);
        try {
            clBuildProgram(program, 1, new cl_device_id[] {info.device()}, options, null, null);
        } catch (CLException e) {
            throw new IllegalStateException("OpenCL build failed on " + info.name() + " with options '" + options
                    + "': " + e.getMessage() + "\nbuild log:\n" + buildLog(program), e);
        } finally {
            clReleaseProgram(program);
        }
    }

    private String buildLog(cl_program program) {
        try {
            long[] size = new long[1];
            clGetProgramBuildInfo(program, info.device(), CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] buf = new byte[(int) size[0]];
            clGetProgramBuildInfo(program, info.device(), CL_PROGRAM_BUILD_LOG, buf.length, Pointer.to(buf), null);
            return new String(buf, StandardCharsets.UTF_8).trim();
        } catch (CLException e) {
            return "(no build log: " + e.getMessage() + ")";
        }
    }

    private long kernelWorkGroupSize(cl_program program, String name) {
        cl_kernel k = clCreateKernel(program, name, null);
        try {
            long[] v = new long[1];
            clGetKernelWorkGroupInfo(k, info.device(), CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(v), null);
            return Sizeof.size_t == Sizeof.cl_int ? v[0] & 0xFFFFFFFFL : v[0];
        } finally {
            clReleaseKernel(k);
        }
    }

    static String resource(String name) {
        try (InputStream in = ClDevice.class.getResourceAsStream(KERNEL_DIR + name)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + KERNEL_DIR + name + " is not on the class path "
                        + "(the fuse4j-kernels jar is missing)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel source " + name, e);
        }
    }

    // ---- buffers (callers hold no lock: each of these takes it) ------------------------------------------------

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

    // ---- launches --------------------------------------------------------------------------------------------

    /**
     * Sets the arguments of kernel {@code name} and runs it; the caller holds {@link #lock} and calls
     * {@link #finish()} when its sequence is done. Arguments: {@code cl_mem}, Integer (int and uint), Long (ulong),
     * Float.
     */
    void launch(String name, long[] global, long[] local, Object... args) {
        cl_kernel k = kernels.get(name);
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof cl_mem m) {
                org.jocl.CL.clSetKernelArg(k, i, Sizeof.cl_mem, Pointer.to(m));
            } else if (a instanceof Integer v) {
                org.jocl.CL.clSetKernelArg(k, i, Sizeof.cl_int, Pointer.to(new int[] {v}));
            } else if (a instanceof Long v) {
                org.jocl.CL.clSetKernelArg(k, i, Sizeof.cl_long, Pointer.to(new long[] {v}));
            } else if (a instanceof Float v) {
                org.jocl.CL.clSetKernelArg(k, i, Sizeof.cl_float, Pointer.to(new float[] {v}));
            } else {
                throw new IllegalArgumentException("kernel " + name + " argument " + i + " has unsupported type "
                        + (a == null ? "null" : a.getClass().getName()));
            }
        }
        clEnqueueNDRangeKernel(queue, k, global.length, null, global, local, 0, null, null);
    }

    void finish() {
        clFinish(queue);
    }
}
