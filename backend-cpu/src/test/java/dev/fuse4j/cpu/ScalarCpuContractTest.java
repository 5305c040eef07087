package dev.fuse4j.cpu;

import dev.fuse4j.Backend;
import dev.fuse4j.Backends;
import dev.fuse4j.contract.BackendContract;

/** The contract suite on the scalar oracle path. */
class ScalarCpuContractTest extends BackendContract {
    @Override
    protected Backend createBackend() {
        return Backends.get("cpu-scalar");
    }
}
