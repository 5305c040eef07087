package dev.fuse4j.contract;

import org.junit.jupiter.api.Assumptions;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * What must run in this build rather than be skipped: the comma-separated names in the system property
 * {@code fuse4j.require}, else the environment variable {@code FUSE4J_REQUIRE} (CI sets it, docs/DESIGN.md lists
 * the names). A test that lacks a backend or tool skips with the reason where that thing is not required, and fails
 * with the same reason where it is, so a machine that lost PoCL or g++ cannot pass CI by skipping.
 */
public final class Required {

    /** Every name a test asks about; anything else in the variable is a typo that would require nothing. */
    public static final List<String> NAMES = List.of(
            "cpu",            // the cpu backend's suites
            "opencl",         // an OpenCL device (PoCL in CI): the OpenCL suites
            "cuda",           // a CUDA GPU: the CUDA suites
            "host-cuda",      // g++ with C++20: the CUDA kernels run on the host through the shim
            "nvcc",           // the nvcc that made the committed PTX: recompiling it must give the same bytes
            "openblas",       // the native OpenBLAS behind the compare command's peer
            "fashion-mnist"); // Debian's dataset-fashion-mnist: the train command on real data

    private Required() {
    }

    /** The names required in this run, checked against {@link #NAMES}. */
    public static Set<String> names() {
        String spec = System.getProperty("fuse4j.require");
        if (spec == null) {
            spec = System.getenv().getOrDefault("FUSE4J_REQUIRE", "");
        }
        Set<String> names = Arrays.stream(spec.split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toCollection(LinkedHashSet::new));
        List<String> unknown = names.stream().filter(s -> !NAMES.contains(s)).toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("FUSE4J_REQUIRE names " + unknown + ", which no test knows; the names "
                    + "are " + NAMES);
        }
        return names;
    }

    /** Whether {@code name} must run here. */
    public static boolean isRequired(String name) {
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("'" + name + "' is not one of " + NAMES);
        }
        return names().contains(name);
    }

    /**
     * Ends the running test because {@code name} is missing: a failure where it is required, else a skip (always a
     * skip for a null name, which nothing can require).
     */
    public static void missing(String name, String reason) {
        if (name != null && isRequired(name)) {
            fail(name + " is required here (FUSE4J_REQUIRE) but missing: " + reason);
        }
        Assumptions.abort(reason);
    }

    /** Goes on when {@code present}; otherwise {@link #missing ends the test} for want of {@code name}. */
    public static void assume(String name, boolean present, String reason) {
        if (!present) {
            missing(name, reason);
        }
    }
}
