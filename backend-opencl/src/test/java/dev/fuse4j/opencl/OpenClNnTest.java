package dev.fuse4j.opencl;

import dev.fuse4j.Backend;
import dev.fuse4j.Backends;
import dev.fuse4j.contract.NnContract;

/** The training-layer suite on the first OpenCL device (PoCL in CI); skipped with the reason when there is none. */
class OpenClNnTest extends NnContract {
    @Override
    protected Backend createBackend() {
        return Backends.get("opencl");
    }
}
