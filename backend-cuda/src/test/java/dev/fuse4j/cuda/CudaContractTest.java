package dev.fuse4j.cuda;

import dev.fuse4j.Backend;
import dev.fuse4j.Backends;
import dev.fuse4j.contract.BackendContract;

/** The contract suite on the first CUDA device; skipped with the driver's reason where there is none (CI). */
class CudaContractTest extends BackendContract {
    @Override
    protected Backend createBackend() {
        return Backends.get("cuda");
    }
}
