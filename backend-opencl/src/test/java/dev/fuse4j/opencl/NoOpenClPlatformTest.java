package dev.fuse4j.opencl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Unavailable is not broken: in a JVM whose OpenCL ICD loader finds no vendor driver (OCL_ICD_VENDORS pointed at
 * an empty directory), probe() reports one unavailable opencl status with the reason in words and get("opencl")
 * throws BackendUnavailableException with it, both carrying the loader's error as their cause, instead of crashing.
 * Where the machine has no OpenCL library at all the same path runs from JOCL's LinkageError.
 */
class NoOpenClPlatformTest {

    @Test
    void withNoVendorDriverProbeSaysWhyAndGetRefuses(@TempDir Path emptyVendors) throws IOException,
            InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), ProbeWithoutOpenCl.class.getName());
        pb.environment().put("OCL_ICD_VENDORS", emptyVendors.toString());
        pb.environment().remove("FUSE4J_BACKEND");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe JVM did not finish");
        assertEquals(0, p.exitValue(), output);
        List<String> probe = output.lines().filter(l -> l.startsWith("probe: ")).toList();
        assertEquals(1, probe.size(), "one unavailable status, not one per device: " + output);
        assertTrue(probe.get(0).contains("opencl") && probe.get(0).contains("no OpenCL platform"), output);
        // The status and the exception carry the ICD loader's error itself, as the other backends' do.
        String cause = output.lines().filter(l -> l.startsWith("probe cause: ")).findFirst().orElse("");
        assertTrue(cause.contains("CLException") && cause.contains("CL_PLATFORM_NOT_FOUND_KHR"), output);
        String getCause = output.lines().filter(l -> l.startsWith("get cause: ")).findFirst().orElse("");
        assertTrue(getCause.contains("CLException") && getCause.contains("CL_PLATFORM_NOT_FOUND_KHR"), output);
        String get = output.lines().filter(l -> l.startsWith("get: ")).findFirst().orElse("");
        assertTrue(get.contains("no OpenCL platform") && get.contains("pocl-opencl-icd"), output);
        assertTrue(Files.list(emptyVendors).findAny().isEmpty());
    }
}
