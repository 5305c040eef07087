package dev.fuse4j.cpu;

import dev.fuse4j.Backend;
import dev.fuse4j.contract.NnContract;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** The training-layer suite on the Vector API path with each microkernel. */
@ParameterizedClass(name = "kernel {0}")
@EnumSource(Microkernel.class)
class VectorCpuNnTest extends NnContract {
    @Parameter
    Microkernel kernel;

    @Override
    protected Backend createBackend() {
        return KernelVariants.backend(kernel);
    }
}
