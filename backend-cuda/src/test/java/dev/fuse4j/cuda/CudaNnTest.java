package dev.fuse4j.cuda;

import dev.fuse4j.Backend;
import dev.fuse4j.Backends;
import dev.fuse4j.contract.NnContract;

/** The training-layer suite on the first CUDA device; skipped with the driver's reason where there is none (CI). */
class CudaNnTest extends NnContract {
    @Override
    protected Backend createBackend() {
        return Backends.get("cuda");
    }
}
