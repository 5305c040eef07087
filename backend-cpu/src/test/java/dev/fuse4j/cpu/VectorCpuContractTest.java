package dev.fuse4j.cpu;

import dev.fuse4j.Backend;
import dev.fuse4j.Backends;
import dev.fuse4j.contract.BackendContract;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The contract suite on the Vector API path (tests run with --add-modules jdk.incubator.vector). */
class VectorCpuContractTest extends BackendContract {
    @Override
    protected Backend createBackend() {
        return Backends.get("cpu");
    }

    @Test
    void cpuIsTheVectorPathHere() {
        assertNull(VectorSupport.unavailableReason());
        assertInstanceOf(VectorCpuBackend.class, backend, "cpu fell back to " + backend.device());
    }
}
