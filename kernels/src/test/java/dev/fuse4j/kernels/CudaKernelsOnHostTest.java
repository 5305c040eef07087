package dev.fuse4j.kernels;

import dev.fuse4j.contract.Required;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The CUDA kernels' arithmetic and indexing, checked without a GPU: g++ compiles fuse4j.cu as host code through
 * a small CUDA shim (src/test/cuda-host), one host thread per CUDA thread, and kernel_check.cpp compares every
 * output with a float64 reference on edge shapes. The same source then runs on GPUs through the committed PTX.
 * Skipped where g++ is missing (a failure where FUSE4J_REQUIRE names host-cuda); a g++ that cannot build the check,
 * the shared header included, is a failure. The CUDA contract suite covers the kernels on real devices.
 */
class CudaKernelsOnHostTest {
    private static final Path HOST = Path.of("src/test/cuda-host");

    @Test
    void kernelsMatchTheReferenceOnTheHost() throws Exception {
        Path gxx = Tools.onPath("g++");
        Required.assume("host-cuda", gxx != null, "g++ is not on the PATH: the CUDA kernels are not run on the host");
        Path dir = Files.createTempDirectory("fuse4j-kernel-check");
        Path exe = dir.resolve("kernel_check");
        try {
            Tools.Result build = Tools.run(List.of(gxx.toString(), "-std=c++20", "-O2", "-pthread",
                    "-Wall", "-Wno-unknown-pragmas", "-I", HOST.toString(),
                    "-I", PtxIsCurrentTest.CUDA.toString(), "-I", PtxIsCurrentTest.RES.toString(),
                    "-o", exe.toString(), HOST.resolve("kernel_check.cpp").toString()), 300);
            assertEquals(0, build.exitCode(), "g++ could not build the host kernel check:\n" + build.output());
            Tools.Result run = Tools.run(List.of(exe.toString()), 600);
            assertEquals(0, run.exitCode(), "CUDA kernels on the host:\n" + run.output());
        } finally {
            Files.deleteIfExists(exe);
            Files.deleteIfExists(dir);
        }
    }
}
