package dev.fuse4j.cpu;

import dev.fuse4j.Backend;
import dev.fuse4j.Backends;
import dev.fuse4j.contract.NnContract;

/** The training-layer suite on the Vector API path. */
class VectorCpuNnTest extends NnContract {
    @Override
    protected Backend createBackend() {
        return Backends.get("cpu");
    }
}
