package dev.fuse4j.opencl;

import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.nio.charset.StandardCharsets;

import static org.jocl.CL.clGetDeviceInfo;
import static org.jocl.CL.clGetPlatformInfo;

/** Typed reads of OpenCL platform and device properties. */
final class ClInfo {
    private ClInfo() {
    }

    static String string(cl_device_id d, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(d, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetDeviceInfo(d, param, buf.length, Pointer.to(buf), null);
        return text(buf);
    }

    static String string(cl_platform_id p, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(p, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetPlatformInfo(p, param, buf.length, Pointer.to(buf), null);
        return text(buf);
    }

    static long longValue(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.cl_long, Pointer.to(v), null);
        return v[0];
    }

    /** For properties of type size_t (as wide as a pointer). */
    static long sizeValue(cl_device_id d, int param) {
        if (Sizeof.size_t == Sizeof.cl_int) {
            return intValue(d, param) & 0xFFFFFFFFL;
        }
        return longValue(d, param);
    }

    static int intValue(cl_device_id d, int param) {
        int[] v = new int[1];
        clGetDeviceInfo(d, param, Sizeof.cl_int, Pointer.to(v), null);
        return v[0];
    }

    private static String text(byte[] buf) {
        int len = buf.length;
        while (len > 0 && buf[len - 1] == 0) {
            len--;
        }
        return new String(buf, 0, len, StandardCharsets.UTF_8).trim();
    }
}
