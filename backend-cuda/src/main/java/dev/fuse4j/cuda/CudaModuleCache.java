package dev.fuse4j.cuda;

import dev.fuse4j.kernels.KernelResources;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;

/**
 * PTX modules loaded for one device through the driver's JIT, once per file, with their kernels: the counterpart
 * of the OpenCL backend's program cache. The PTX files are resources of the fuse4j-kernels jar, made by
 * {@code kernels/make-ptx}.
 */
final class CudaModuleCache {

    /** A loaded module and its kernels. */
    record Loaded(CUmodule module, Map<String, CUfunction> functions) {
        CUfunction function(String name) {
            CUfunction f = functions.get(name);
            if (f == null) {
                throw new IllegalArgumentException("no kernel '" + name + "' in this module; it has "
                        + functions.keySet());
            }
            return f;
        }
    }

    private final CudaDevice dev;
    private final Map<String, Loaded> loaded = new HashMap<>();

    CudaModuleCache(CudaDevice dev) {
        this.dev = dev;
    }

    /** The module of PTX file {@code ptx} with kernels {@code names}, loaded on first use. */
    synchronized Loaded get(String ptx, List<String> names) {
        Loaded l = loaded.get(ptx);
        if (l == null) {
            dev.makeCurrent();
            CUmodule module = new CUmodule();
            byte[] text = KernelResources.read(ptx);
            int rc = cuModuleLoadData(module, Arrays.copyOf(text, text.length + 1)); // a NUL-terminated string
            if (rc != CUresult.CUDA_SUCCESS) {
                throw new IllegalStateException("cuModuleLoadData of " + ptx + " failed on " + dev.name + " ("
                        + dev.description + "): " + CUresult.stringFor(rc)
                        + (rc == CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION
                        ? "; the PTX is ISA 8.0 (CUDA 12.0), which needs an NVIDIA driver R525 or newer" : ""));
            }
            Map<String, CUfunction> functions = new HashMap<>();
            for (String name : names) {
                CUfunction f = new CUfunction();
                dev.check("cuModuleGetFunction(" + name + ")", cuModuleGetFunction(f, module, name));
                functions.put(name, f);
            }
            l = new Loaded(module, Map.copyOf(functions));
            loaded.put(ptx, l);
        }
        return l;
    }
}
