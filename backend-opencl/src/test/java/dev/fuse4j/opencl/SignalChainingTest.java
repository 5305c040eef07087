package dev.fuse4j.opencl;

import dev.fuse4j.contract.Required;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PoCL, whose LLVM replaces the JVM's SIGSEGV handler, is started only where the JVM chains signal handlers
 * (libjsig preloaded) or the user said {@code unchained}; every other platform always is.
 */
class SignalChainingTest {
    private static final String POCL = "Portable Computing Language";
    private static final Path JSIG = Path.of(System.getProperty("java.home"), "lib", "libjsig.so");

    @Test
    void poclIsLeftOutOnlyWithoutLibjsigUnlessUnchained() {
        String reason = SignalChaining.skipReason(POCL, null, false, "/jdk");
        assertTrue(reason != null && reason.contains("LD_PRELOAD=/jdk/lib/libjsig.so")
                && reason.contains("-Dfuse4j.opencl.pocl=unchained"), reason);
        assertNull(SignalChaining.skipReason(POCL, null, true, "/jdk"), "libjsig loaded");
        assertNull(SignalChaining.skipReason(POCL, " Unchained ", false, "/jdk"), "asked for anyway");
        assertTrue(SignalChaining.skipReason(POCL, "chained", false, "/jdk") != null, "the default, said");
        assertNull(SignalChaining.skipReason("NVIDIA CUDA", null, false, "/jdk"), "other platforms are used");
        assertNull(SignalChaining.skipReason(null, null, false, "/jdk"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SignalChaining.skipReason("NVIDIA CUDA", "yes", true, "/jdk"));
        assertTrue(e.getMessage().contains("fuse4j.opencl.pocl") && e.getMessage().contains("'yes'"),
                e.getMessage());
    }

    @Test
    void libjsigIsFoundInTheMapsByItsFileName() {
        assertTrue(SignalChaining.mapsLibjsig(Stream.of(
                "7f00-7f10 r--p 00000000 08:01 123 /usr/lib/x86_64-linux-gnu/libc.so.6",
                "7f20-7f30 r-xp 00001000 08:01 456 /usr/lib/jvm/temurin-25-jdk-amd64/lib/libjsig.so")));
        assertFalse(SignalChaining.mapsLibjsig(Stream.of(
                "7f00-7f10 r--p 00000000 08:01 123 /usr/lib/x86_64-linux-gnu/libc.so.6",
                "7f20-7f30 r-xp 00001000 08:01 456 /opt/libjsig.so.bak", "7f40-7f50 rw-p 00000000 00:00 0")));
        // This JVM: ./fuse4j preloads libjsig for every JVM it starts; plain Maven does not.
        String preload = System.getenv().getOrDefault("LD_PRELOAD", "");
        assertEquals(preload.contains("libjsig.so"), SignalChaining.jsigLoaded(), "LD_PRELOAD=" + preload);
    }

    /**
     * In child JVMs with PoCL installed: with libjsig preloaded PoCL's device is there; without it the probe lists no
     * PoCL device and says why and how to use it; a bad value is named. ({@code unchained} is not tried in a child:
     * that JVM would run PoCL without libjsig, the rare crash this guards against.)
     */
    @Test
    void childJvmsUsePoclOnlyWhereItIsSafe() throws IOException, InterruptedException {
        assertTrue(Files.isRegularFile(JSIG), "the JDK has no " + JSIG);
        String chained = probe(JSIG.toString());
        Required.assume("opencl", poclDevices(chained) > 0, "no PoCL device here: " + chained);
        assertFalse(chained.contains("PoCL is left out"), chained);
        assertTrue(chained.contains("get: opened"), chained);

        String bare = probe(null);
        assertEquals(0, poclDevices(bare), bare);
        assertTrue(bare.contains("PoCL is left out") && bare.contains("LD_PRELOAD=" + JSIG), bare);

        String bad = probe(JSIG.toString(), "-Dfuse4j.opencl.pocl=maybe");
        assertTrue(bad.contains("fuse4j.opencl.pocl must be 'chained' or 'unchained', not 'maybe'"), bad);
    }

    /** The probe lines that list a PoCL device (its description names the platform). */
    private static long poclDevices(String output) {
        return output.lines().filter(l -> l.startsWith("probe: ") && l.contains("available on")
                && l.contains(POCL)).count();
    }

    /** What {@link ProbeWithoutOpenCl} prints in a JVM started with {@code preload} (null: none) and options. */
    private static String probe(String preload, String... options) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ProbeWithoutOpenCl.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("FUSE4J_BACKEND");
        if (preload == null) {
            pb.environment().remove("LD_PRELOAD");
        } else {
            pb.environment().put("LD_PRELOAD", preload);
        }
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the probe JVM did not finish");
        assertEquals(0, p.exitValue(), output);
        return output;
    }
}
