package dev.fuse4j.cuda;

import jcuda.driver.CUdevice;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

/**
 * Loads the CUDA driver once and lists its devices. Without a driver JCuda's natives throw
 * {@link UnsatisfiedLinkError} on first use and {@link NoClassDefFoundError} after that: both are caught here, once,
 * and the reason is kept for {@code probe()} and for the tests' skip message, the error itself as its cause.
 */
record CudaDriver(List<DeviceInfo> devices, int driverVersion, String unavailableReason, Throwable unavailableCause) {

    /** One device: ordinal, name, memory, SMs, compute capability. */
    record DeviceInfo(int ordinal, CUdevice device, String name, long memoryBytes, int multiprocessors, int ccMajor,
                      int ccMinor) {
        String describe(int driverVersion) {
            return String.format(Locale.ROOT, "%s, %.1f GiB, %d SMs, compute capability %d.%d, driver API %d.%d",
                    name, memoryBytes / (double) (1L << 30), multiprocessors, ccMajor, ccMinor, driverVersion / 1000,
                    driverVersion % 1000 / 10);
        }
    }

    static CudaDriver load() {
        try {
            JCudaDriver.setExceptionsEnabled(false);
            int rc = cuInit(0);
            if (rc != CUresult.CUDA_SUCCESS) {
                return none("cuInit failed: " + CUresult.stringFor(rc)
                        + (rc == CUresult.CUDA_ERROR_NO_DEVICE ? " (the driver sees no GPU)" : ""));
            }
            int[] version = new int[1];
            cuDriverGetVersion(version);
            int[] count = new int[1];
            rc = cuDeviceGetCount(count);
            if (rc != CUresult.CUDA_SUCCESS || count[0] == 0) {
                return none("no CUDA device (" + (rc == CUresult.CUDA_SUCCESS ? "0 devices" : CUresult.stringFor(rc))
                        + ")");
            }
            List<DeviceInfo> list = new ArrayList<>();
            for (int i = 0; i < count[0]; i++) {
                CUdevice d = new CUdevice();
                cuDeviceGet(d, i);
                byte[] name = new byte[256];
                cuDeviceGetName(name, name.length, d);
                long[] mem = new long[1];
                cuDeviceTotalMem(mem, d);
                list.add(new DeviceInfo(i, d, cString(name), mem[0], attribute(d, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
                        attribute(d, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                        attribute(d, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)));
            }
            return new CudaDriver(List.copyOf(list), version[0], null, null);
        } catch (LinkageError e) {
            String missing = JCudaNatives.missing(CudaDriver.class.getClassLoader());
            if (missing != null) {
                return new CudaDriver(List.of(), 0, missing, e);
            }
            // JCuda's message runs to dozens of lines of nested stack traces: the reason takes its first line, the
            // cause keeps the rest.
            String first = String.valueOf(e.getMessage()).lines().findFirst().orElse("").trim();
            return new CudaDriver(List.of(), 0, "the CUDA driver could not be loaded (" + e.getClass().getSimpleName()
                    + ": " + first + "); an NVIDIA driver (libcuda.so.1) is needed", e);
        }
    }

    private static int attribute(CUdevice d, int attr) {
        int[] v = new int[1];
        cuDeviceGetAttribute(v, attr, d);
        return v[0];
    }

    private static String cString(byte[] b) {
        int len = 0;
        while (len < b.length && b[len] != 0) {
            len++;
        }
        return new String(b, 0, len, StandardCharsets.UTF_8).trim();
    }

    private static CudaDriver none(String reason) {
        return new CudaDriver(List.of(), 0, reason, null);
    }
}
