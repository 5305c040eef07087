package dev.fuse4j.opencl;

import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static org.jocl.CL.CL_DEVICE_NOT_FOUND;
import static org.jocl.CL.CL_DEVICE_TYPE_ALL;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.clGetDeviceIDs;
import static org.jocl.CL.clGetPlatformIDs;

/**
 * Finds every OpenCL device on every platform, GPUs first, then accelerators, then CPUs (stable within a kind), so
 * {@code opencl:0} is the best device rather than whatever platform the ICD loader lists first. When there is no
 * OpenCL library or no platform, the result says why in words instead of throwing, and keeps the error that said
 * so (null when none was thrown) for the status's cause. A platform that would replace the JVM's signal handlers is
 * left out ({@link SignalChaining}).
 */
record ClDiscovery(List<ClDeviceInfo> devices, String unavailableReason, Throwable unavailableCause) {
    private static final System.Logger LOG = System.getLogger(ClDiscovery.class.getName());

    static ClDiscovery run() {
        try {
            CL.setExceptionsEnabled(true);
            int[] count = new int[1];
            clGetPlatformIDs(0, null, count);
            if (count[0] == 0) {
                return none("no OpenCL platform is installed (the ICD loader found no vendor driver)", null);
            }
            cl_platform_id[] platforms = new cl_platform_id[count[0]];
            clGetPlatformIDs(platforms.length, platforms, null);
            List<ClDeviceInfo> found = new ArrayList<>();
            List<String> skipped = new ArrayList<>();
            for (cl_platform_id p : platforms) {
                // Before its devices are listed: listing them is what starts PoCL's LLVM (SignalChaining).
                String skip;
                try {
                    skip = SignalChaining.skipReason(ClInfo.string(p, CL_PLATFORM_NAME));
                } catch (IllegalArgumentException e) { // a bad fuse4j.opencl.pocl
                    return none(e.getMessage(), e);
                }
                if (skip != null) {
                    LOG.log(System.Logger.Level.INFO, "OpenCL: {0}", skip);
                    skipped.add(skip);
                    continue;
                }
                int[] n = new int[1];
                try {
                    clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, n);
                } catch (CLException e) {
                    if (e.getStatus() == CL_DEVICE_NOT_FOUND) {
                        continue;
                    }
                    throw e;
                }
                cl_device_id[] ds = new cl_device_id[n[0]];
                clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, ds.length, ds, null);
                for (cl_device_id d : ds) {
                    found.add(ClDeviceInfo.read(p, d));
                }
            }
            if (found.isEmpty()) {
                return none(skipped.isEmpty() ? platforms.length + " OpenCL platform(s) but no device on any of them"
                        : String.join("; ", skipped), null);
            }
            found.sort(Comparator.comparingInt(ClDeviceInfo::rank));
            for (int i = 0; i < found.size(); i++) {
                LOG.log(System.Logger.Level.DEBUG, "OpenCL device opencl:{0}: {1}", i, found.get(i).describe());
            }
            return new ClDiscovery(List.copyOf(found), null, null);
        } catch (CLException e) {
            if (e.getStatus() == -1001) { // CL_PLATFORM_NOT_FOUND_KHR from the ICD loader
                return none("no OpenCL platform (CL_PLATFORM_NOT_FOUND_KHR: the ICD loader found no vendor driver; "
                        + "on Debian install pocl-opencl-icd for the CPU or your GPU vendor's ICD)", e);
            }
            return none("OpenCL discovery failed: " + e.getMessage(), e);
        } catch (LinkageError e) {
            return none("the OpenCL library could not be loaded (" + e + "); install an ICD loader "
                    + "(Debian: ocl-icd-libopencl1) and a driver such as pocl-opencl-icd", e);
        }
    }

    private static ClDiscovery none(String reason, Throwable cause) {
        return new ClDiscovery(List.of(), reason, cause);
    }
}
