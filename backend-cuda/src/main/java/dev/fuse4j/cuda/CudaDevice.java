package dev.fuse4j.cuda;

import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;

/**
 * One CUDA device in use: its primary context (made current on whichever thread calls), the PTX module loaded
 * once through the driver's JIT, and the kernels. Every driver call goes through {@link #check}, which turns a
 * CUresult into a message naming the call and the device.
 */
final class CudaDevice {
    static final String PTX = "/dev/fuse4j/kernels/fuse4j.ptx";
    private static final String[] KERNELS = {"gemm_forward", "gemm_dx", "gemm_dw", "bias_grad", "reduce_slices",
        "dropout_mask", "softmax_xent_rows", "sum2", "sgd_step", "adam_step"};

    final String name;
    final CudaDriver.DeviceInfo info;
    final String description;
    private final CUcontext context = new CUcontext();
    private final Map<String, CUfunction> functions = new HashMap<>();
    /** Up to a quarter of the device's memory (at most 4 GiB) of freed buffers is kept for reuse. */
    private final DeviceMemoryPool pool;
    /** Bound to kernel arguments a call does not use. */
    final CUdeviceptr unused;
    /** Rounded size of every live or pooled buffer, for returning it to the right bucket. */
    private final Map<CUdeviceptr, Long> sizes = new java.util.concurrent.ConcurrentHashMap<>();

    CudaDevice(String name, CudaDriver.DeviceInfo info, int driverVersion) {
        this.name = name;
        this.info = info;
        this.description = info.describe(driverVersion);
        this.pool = new DeviceMemoryPool(Math.min(info.memoryBytes() / 4, 4L << 30));
        check("cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain(context, info.device()));
        try {
            makeCurrent();
            CUmodule module = new CUmodule();
            int rc = cuModuleLoadData(module, ptx());
            if (rc != CUresult.CUDA_SUCCESS) {
                throw new IllegalStateException("cuModuleLoadData of " + PTX + " failed on " + name + " ("
                        + description + "): " + CUresult.stringFor(rc)
                        + (rc == CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION
                        ? "; the PTX is ISA 8.0 (CUDA 12.0), which needs an NVIDIA driver R525 or newer" : ""));
            }
            for (String k : KERNELS) {
                CUfunction f = new CUfunction();
                check("cuModuleGetFunction(" + k + ")", cuModuleGetFunction(f, module, k));
                functions.put(k, f);
            }
            unused = allocate(1);
        } catch (RuntimeException e) {
            // The device stays unused: hand its primary context back (the module goes with it).
            cuDevicePrimaryCtxRelease(info.device());
            throw e;
        }
    }

    private static byte[] ptx() {
        try (InputStream in = CudaDevice.class.getResourceAsStream(PTX)) {
            if (in == null) {
                throw new IllegalStateException(PTX + " is not on the class path (the fuse4j-kernels jar is missing)");
            }
            byte[] text = in.readAllBytes();
            return Arrays.copyOf(text, text.length + 1); // the driver reads a NUL-terminated string
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + PTX, e);
        }
    }

    void makeCurrent() {
        check("cuCtxSetCurrent", cuCtxSetCurrent(context));
    }

    void check(String call, int rc) {
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException(call + " failed on " + name + " (" + info.name() + "): "
                    + CUresult.stringFor(rc));
        }
    }

    /** A buffer of {@code floats} floats, from the pool when one of the size is cached. */
    CUdeviceptr allocate(long floats) {
        long bytes = DeviceMemoryPool.roundUp(Math.max(1, floats) * Sizeof.FLOAT);
        CUdeviceptr p = pool.take(bytes);
        if (p != null) {
            return p;
        }
        makeCurrent();
        p = new CUdeviceptr();
        int rc = cuMemAlloc(p, bytes);
        if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            pool.drain(this::release);
            rc = cuMemAlloc(p, bytes);
        }
        check("cuMemAlloc(" + bytes + " bytes)", rc);
        sizes.put(p, bytes);
        return p;
    }

    /** Returns a buffer from any thread (the Cleaner's included) to the pool, or to the driver when it is full. */
    void free(CUdeviceptr p) {
        Long bytes = sizes.get(p);
        if (bytes != null && pool.give(p, bytes)) {
            return;
        }
        release(p);
    }

    private void release(CUdeviceptr p) {
        sizes.remove(p);
        makeCurrent();
        check("cuMemFree", cuMemFree(p));
    }

    void write(CUdeviceptr p, float[] data) {
        makeCurrent();
        check("cuMemcpyHtoD", cuMemcpyHtoD(p, Pointer.to(data), (long) data.length * Sizeof.FLOAT));
    }

    void read(CUdeviceptr p, float[] into) {
        makeCurrent();
        check("cuMemcpyDtoH", cuMemcpyDtoH(Pointer.to(into), p, (long) into.length * Sizeof.FLOAT));
    }

    void zero(CUdeviceptr p, long floats) {
        makeCurrent();
        check("cuMemsetD32", cuMemsetD32(p, 0, floats));
        synchronize();
    }

    /**
     * Launches {@code kernel}; arguments: {@link CUdeviceptr}, Integer (int, unsigned int), Long (unsigned long long),
     * Float. The caller synchronises when its sequence of launches is done.
     */
    void launch(String kernel, int gridX, int gridY, int blockX, Object... args) {
        launchGrid3(kernel, gridX, gridY, 1, blockX, args);
    }

    /** {@link #launch} with a third grid dimension. */
    void launchGrid3(String kernel, int gridX, int gridY, int gridZ, int blockX, Object... args) {
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof CUdeviceptr p) {
                params[i] = Pointer.to(p);
            } else if (a instanceof Integer v) {
                params[i] = Pointer.to(new int[] {v});
            } else if (a instanceof Long v) {
                params[i] = Pointer.to(new long[] {v});
            } else if (a instanceof Float v) {
                params[i] = Pointer.to(new float[] {v});
            } else {
                throw new IllegalArgumentException("kernel " + kernel + " argument " + i + " has unsupported type "
                        + (a == null ? "null" : a.getClass().getName()));
            }
        }
        makeCurrent();
        check("cuLaunchKernel(" + kernel + ", grid " + gridX + "x" + gridY + "x" + gridZ + ", block " + blockX + ")",
                cuLaunchKernel(functions.get(kernel), gridX, gridY, gridZ, blockX, 1, 1, 0, null, Pointer.to(params),
                        null));
    }

    void synchronize() {
        check("cuCtxSynchronize", cuCtxSynchronize());
    }
}
