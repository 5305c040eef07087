package dev.fuse4j.bench.cli;

import dev.fuse4j.BackendStatus;
import dev.fuse4j.Backends;
import dev.fuse4j.DeviceKind;
import dev.fuse4j.contract.Required;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** With every backend module on the class path: which backend select() picks, and what probe says of the others. */
class ProbeCommandTest {

    /** PoCL (an OpenCL CPU device, as CI installs it) must not win over the Java cpu backend, and probe says why. */
    @Test
    void anOpenClCpuDeviceIsPassedOverForTheCpuBackend() {
        Assumptions.assumeTrue(Backends.explicitChoice() == null, "a backend is chosen explicitly in this run");
        List<BackendStatus> clCpus = Backends.probe().stream()
                .filter(s -> s.available() && s.kind() == DeviceKind.CPU).toList();
        Required.assume("opencl", !clCpus.isEmpty(), "no OpenCL CPU device here (CI installs PoCL)");
        Assumptions.assumeTrue(Backends.probe().stream().noneMatch(s -> s.available() && s.kind() == DeviceKind.GPU),
                "a GPU is present: it is selected first");
        assertEquals("cpu", Backends.select().name());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        assertEquals(ExitCode.OK, ProbeCommand.run(new String[0], new PrintStream(bytes, true, StandardCharsets.UTF_8),
                new PrintStream(errBytes, true, StandardCharsets.UTF_8)));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("selected: cpu ("), out);
        for (BackendStatus s : clCpus) {
            assertTrue(out.contains("passed over " + s.name() + ": a CPU behind a device driver runs only when named"),
                    out);
        }
        List<String> names = Backends.probe().stream().map(BackendStatus::name).toList();
        assertTrue(names.indexOf("cpu") < names.indexOf(clCpus.get(0).name()), "probe lists in select() order: "
                + names);
    }
}
