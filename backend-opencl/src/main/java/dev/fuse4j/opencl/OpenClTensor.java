package dev.fuse4j.opencl;

import dev.fuse4j.Backend;
import dev.fuse4j.kernels.GpuTensor;
import org.jocl.cl_mem;

/** A tensor in an OpenCL buffer of its device; OpenCL keeps a released buffer for queued commands that use it. */
final class OpenClTensor extends GpuTensor<cl_mem> {
    OpenClTensor(Backend owner, ClDevice device, cl_mem mem, int[] shape) {
        super(owner, device, mem, shape);
    }
}
