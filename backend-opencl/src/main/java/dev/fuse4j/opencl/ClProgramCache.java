package dev.fuse4j.opencl;

import dev.fuse4j.kernels.KernelResources;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_program;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.jocl.CL.CL_KERNEL_NUM_ARGS;
import static org.jocl.CL.CL_KERNEL_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;
import static org.jocl.CL.clBuildProgram;
import static org.jocl.CL.clCreateKernel;
import static org.jocl.CL.clCreateProgramWithSource;
import static org.jocl.CL.clGetKernelInfo;
import static org.jocl.CL.clGetKernelWorkGroupInfo;
import static org.jocl.CL.clGetProgramBuildInfo;
import static org.jocl.CL.clReleaseProgram;

/**
 * Programs built for one device, once per (source, options) pair, with their kernels. Sources are files of the
 * fuse4j-kernels jar; their {@code #include "name"} lines are replaced by the named file (once per program), as
 * nvcc's include path does for the CUDA build of the same files. A failed build throws with the device, the
 * options and the compiler's build log.
 */
final class ClProgramCache {
    private static final Pattern INCLUDE = Pattern.compile("(?m)^\\s*#include\\s+\"([^\"]+)\"\\s*$");

    /** A kernel of a built program with the number of arguments it takes. */
    record Kernel(String name, cl_kernel handle, int argCount) {
    }

    /** A built program and its kernels, created once: a kernel's arguments are set while its call is open. */
    record Built(cl_program program, Map<String, Kernel> kernels) {
        Kernel kernel(String name) {
            Kernel k = kernels.get(name);
            if (k == null) {
                throw new IllegalArgumentException("no kernel '" + name + "' in this program; it has "
                        + kernels.keySet());
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

    /** The program of kernel file {@code source} built with {@code options}, with kernels {@code names}. */
    synchronized Built get(String source, String options, List<String> names) {
        String key = source + '\u0000' + options;
        Built b = built.get(key);
        if (b == null) {
            cl_program program = build(source, withIncludes(source, new HashSet<>()), options);
            Map<String, Kernel> kernels = new HashMap<>();
            for (String name : names) {
                cl_kernel k = clCreateKernel(program, name, null);
                kernels.put(name, new Kernel(name, k, argCount(k)));
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

    /** The text of kernel file {@code name} with its includes expanded; a file already included expands to nothing. */
    static String withIncludes(String name, Set<String> included) {
        if (!included.add(name)) {
            return "";
        }
        String text = new String(KernelResources.read(name), StandardCharsets.UTF_8);
        Matcher m = INCLUDE.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(withIncludes(m.group(1), included)));
        }
        m.appendTail(out);
        return out.toString();
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
    long workGroupLimit(Kernel kernel) {
        long[] v = new long[1];
        clGetKernelWorkGroupInfo(kernel.handle(), device.device(), CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t,
                Pointer.to(v), null);
        return Sizeof.size_t == Sizeof.cl_int ? v[0] & 0xFFFFFFFFL : v[0];
    }

    private static int argCount(cl_kernel k) {
        int[] n = new int[1];
        clGetKernelInfo(k, CL_KERNEL_NUM_ARGS, Sizeof.cl_uint, Pointer.to(n), null);
        return n[0];
    }
}
