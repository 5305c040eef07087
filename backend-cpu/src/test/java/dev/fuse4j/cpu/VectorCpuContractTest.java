package dev.fuse4j.cpu;

import dev.fuse4j.Backend;
import dev.fuse4j.Backends;
import dev.fuse4j.contract.BackendContract;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The contract suite on the Vector API path with each microkernel. */
@ParameterizedClass(name = "kernel {0}")
@EnumSource(Microkernel.class)
class VectorCpuContractTest extends BackendContract {
    @Parameter
    Microkernel kernel;

    @Override
    protected Backend createBackend() {
        return KernelVariants.backend(kernel);
    }

    @Test
    void cpuIsTheVectorPathHere() {
        assertNull(VectorSupport.unavailableReason());
        Backend cpu = Backends.get("cpu");
        assertInstanceOf(VectorCpuBackend.class, cpu, "cpu fell back to " + cpu.device());
    }
}
