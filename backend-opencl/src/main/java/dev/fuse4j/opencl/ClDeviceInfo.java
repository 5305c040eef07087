package dev.fuse4j.opencl;

import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.util.Locale;

import static org.jocl.CL.CL_DEVICE_GLOBAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_LOCAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_COMPUTE_UNITS;
import static org.jocl.CL.CL_DEVICE_MAX_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;
import static org.jocl.CL.CL_DEVICE_VENDOR;
import static org.jocl.CL.CL_DEVICE_VERSION;
import static org.jocl.CL.CL_PLATFORM_NAME;

/** One OpenCL device as discovery found it: the handles and what the tile choice and probe() need. */
record ClDeviceInfo(cl_platform_id platform, cl_device_id device, String platformName, String name, String vendor,
                    String version, long type, int computeUnits, long globalMemBytes, long localMemBytes,
                    long maxWorkGroupSize, int preferredFloatWidth) {
    static final int RANK_GPU = 0;
    static final int RANK_ACCELERATOR = 1;
    static final int RANK_CPU = 2;
    static final int RANK_OTHER = 3;

    static ClDeviceInfo read(cl_platform_id p, cl_device_id d) {
        return new ClDeviceInfo(p, d, ClInfo.string(p, CL_PLATFORM_NAME), ClInfo.string(d, CL_DEVICE_NAME),
                ClInfo.string(d, CL_DEVICE_VENDOR), ClInfo.string(d, CL_DEVICE_VERSION),
                ClInfo.longValue(d, CL_DEVICE_TYPE), ClInfo.intValue(d, CL_DEVICE_MAX_COMPUTE_UNITS),
                ClInfo.longValue(d, CL_DEVICE_GLOBAL_MEM_SIZE), ClInfo.longValue(d, CL_DEVICE_LOCAL_MEM_SIZE),
                ClInfo.sizeValue(d, CL_DEVICE_MAX_WORK_GROUP_SIZE),
                ClInfo.intValue(d, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT));
    }

    /** Order of preference: GPUs, then accelerators, then CPUs, then anything else. */
    int rank() {
        if ((type & CL_DEVICE_TYPE_GPU) != 0) {
            return RANK_GPU;
        }
        if ((type & CL_DEVICE_TYPE_ACCELERATOR) != 0) {
            return RANK_ACCELERATOR;
        }
        return (type & CL_DEVICE_TYPE_CPU) != 0 ? RANK_CPU : RANK_OTHER;
    }

    String typeName() {
        return switch (rank()) {
            case RANK_GPU -> "GPU";
            case RANK_ACCELERATOR -> "accelerator";
            case RANK_CPU -> "CPU";
            default -> "device";
        };
    }

    String describe() {
        return String.format(Locale.ROOT, "%s %s (%s, platform %s, %s), %d compute units, %.1f GiB, %d KiB local, "
                        + "max work-group %d", typeName(), name, vendor, platformName, version, computeUnits,
                globalMemBytes / (double) (1L << 30), localMemBytes / 1024, maxWorkGroupSize);
    }
}
