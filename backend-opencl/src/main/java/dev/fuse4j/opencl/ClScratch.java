package dev.fuse4j.opencl;

import org.jocl.cl_mem;

import static org.jocl.CL.clReleaseMemObject;

/**
 * A grow-only device buffer for intermediate results (split-K partial sums), reused across calls so a backward
 * pass allocates nothing in steady state. Used only under the device lock; a buffer replaced while earlier
 * commands still read it stays alive until they finish (OpenCL keeps released objects for enqueued commands).
 */
final class ClScratch {
    private final ClDevice dev;
    private cl_mem mem;
    private long floats;

    ClScratch(ClDevice dev) {
        this.dev = dev;
    }

    /** A buffer of at least {@code need} floats; the caller holds the device lock. */
    cl_mem atLeast(long need) {
        if (need > floats) {
            if (mem != null) {
                clReleaseMemObject(mem);
            }
            long size = Math.max(need, floats + floats / 2); // grow geometrically: few reallocations
            mem = dev.allocate(size);
            floats = size;
        }
        return mem;
    }
}
