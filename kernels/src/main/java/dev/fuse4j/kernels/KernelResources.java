package dev.fuse4j.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The kernel files this module ships as resources, by name, for the host layers that build or load them. */
public final class KernelResources {
    /** Dialect macros, Philox, the dropout words and the epilogue: included by every other kernel file. */
    public static final String COMMON_HEADER = "fuse4j_common.h";
    /** The kernels outside the GEMM, one text for OpenCL C and CUDA C. */
    public static final String ELEMENTWISE = "elementwise.h";
    /** The OpenCL GEMM (its CUDA counterpart is compiled into {@link #PTX}). */
    public static final String FUSED_LINEAR_CL = "fused_linear.cl";
    /** Every CUDA kernel, compiled by {@code kernels/make-ptx}. */
    public static final String PTX = "fuse4j.ptx";

    private static final String DIR = "/dev/fuse4j/kernels/";

    private KernelResources() {
    }

    /** The bytes of kernel file {@code name}; says which jar is missing when the file is not on the class path. */
    public static byte[] read(String name) {
        try (InputStream in = KernelResources.class.getResourceAsStream(DIR + name)) {
            if (in == null) {
                throw new IllegalStateException("kernel file " + DIR + name + " is not on the class path "
                        + "(the fuse4j-kernels jar is missing)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel file " + DIR + name, e);
        }
    }
}
