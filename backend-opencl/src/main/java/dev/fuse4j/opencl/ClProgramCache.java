package dev.fuse4j.opencl;

import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_program;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.jocl.CL.CL_KERNEL_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;
import static org.jocl.CL.clBuildProgram;
import static org.jocl.CL.clCreateKernel;
import static org.jocl.CL.clCreateProgramWithSource;
import static org.jocl.CL.clGetKernelWorkGroupInfo;
import static org.jocl.CL.clGetProgramBuildInfo;
import static org.jocl.CL.clReleaseProgram;

/**
 * Programs built for one device, once per (sources, options) pair, with their kernels. Sources are resources of the
 * fuse4j-kernels jar; the shared header {@code fuse4j_common.h} is prepended to each, so no include path is needed.
 * A failed build throws with the device, the options and the compiler's build log.
 */
final class ClProgramCache {
    static final String KERNEL_DIR = "/dev/fuse4j/kernels/";
    static final String COMMON_HEADER = "fuse4j_common.h";

    /** A built program and its kernels, created once: a kernel's arguments are set under the device lock. */
    record Built(cl_program program, Map<String, cl_kernel> kernels) {
        cl_kernel kernel(String name) {
            cl_kernel k = kernels.get(name);
            if (k == null) {
                throw new IllegalArgumentException("no kernel '" + name + "' in this program; it has " + kernels.keySet());
            }
            return k;
        }
    }

    private final ClDeviceInfo device;
    private final ClDevice owner;
    private final Map<String, Built> built = new HashMap<>();

    ClProgramCache(ClDevice owner) {
        this.owner = owner;
        this.device = owner.info;
    }

    /** The program made of {@code source} (a resource name) built with {@code options}, with kernels {@code names}. */
    synchronized Built get(String source, String options, List<String> names) {
        String key = source + '\u0000' + options;
        Built b = built.get(key);
        if (b == null) {
            cl_program program = build(source, resource(COMMON_HEADER) + "\n" + resource(source), options);
            Map<String, cl_kernel> kernels = new HashMap<>();
            for (String name : names) {
                kernels.put(name, clCreateKernel(program, name, null));
            }
            b = new Built(program, Map.copyOf(kernels));
            built.put(key, b);
        }
        return b;
    }

    /** Compiles {@code text} and returns the program; throws with the build log when the compiler refuses it. */
    cl_program build(String what, String text, String options) {
        cl_program program = clCreateProgramWithSource(owner.context, 1, new String[] {text}, null, null);
        try {
            clBuildProgram(program, 1, new cl_device_id[] {device.device()}, options, null, null);
        } catch (CLException e) {
            String log = buildLog(program);
            clReleaseProgram(program);
            throw new IllegalStateException("OpenCL build of " + what + " failed on " + device.name() + " ("
                    + device.platformName() + ", " + device.version() + ") with options '" + options + "': "
                    + e.getMessage() + "\nbuild log:\n" + log, e);
        }
        return program;
    }

    private String buildLog(cl_program program) {
        try {
            long[] size = new long[1];
            clGetProgramBuildInfo(program, device.device(), CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] buf = new byte[(int) size[0]];
            clGetProgramBuildInfo(program, device.device(), CL_PROGRAM_BUILD_LOG, buf.length, Pointer.to(buf), null);
            String log = new String(buf, StandardCharsets.UTF_8).replace("\u0000", "").trim();
            return log.isEmpty() ? "(the compiler wrote no log)" : log;
        } catch (CLException e) {
            return "(no build log: " + e.getMessage() + ")";
        }
    }

    /** How many work-items the compiled kernel allows per group (may be fewer than the device's maximum). */
    long workGroupLimit(cl_kernel kernel) {
        long[] v = new long[1];
        clGetKernelWorkGroupInfo(kernel, device.device(), CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(v),
                null);
        return Sizeof.size_t == Sizeof.cl_int ? v[0] & 0xFFFFFFFFL : v[0];
    }

    static String resource(String name) {
        try (InputStream in = ClProgramCache.class.getResourceAsStream(KERNEL_DIR + name)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + KERNEL_DIR + name + " is not on the class path "
                        + "(the fuse4j-kernels jar is missing)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel source " + KERNEL_DIR + name, e);
        }
    }
}
