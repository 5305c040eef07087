package dev.fuse4j.opencl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Whether an OpenCL platform may be started in this JVM. PoCL starts LLVM when it lists its devices, and LLVM puts
 * its own one-shot handler for SIGSEGV, SIGBUS, SIGILL and others in place of the JVM's. The JVM takes SIGSEGV by
 * design (safepoint polls, implicit null checks in compiled code), and the one-shot handler leaves the default action
 * in place while it runs: when two threads trapped at once, the second killed the process with a plain
 * "Segmentation fault", no {@code hs_err} file and no Java stack (2 of about 16 {@code compare} runs over two days on
 * a 2-core machine; strace shows LLVM's {@code RemoveFileOnSignal} installing the handler inside {@code clGetDeviceIDs}).
 *
 * <p>The JDK's signal-chaining library, {@code libjsig.so}, preloaded into the process, keeps the JVM's handlers in
 * place and calls LLVM's only for signals the JVM does not claim. {@code ./fuse4j} preloads it for every JVM it
 * starts. Without it, a PoCL platform is left out, with the reason and the fix, unless {@value #PROPERTY} is
 * {@code unchained}. Other platforms, NVIDIA's among them, do not replace the handlers and are always used.
 */
final class SignalChaining {
    /** {@code chained} (the default: PoCL only when libjsig is loaded) or {@code unchained} (PoCL anyway). */
    static final String PROPERTY = "fuse4j.opencl.pocl";
    /** PoCL's {@code CL_PLATFORM_NAME}. */
    static final String POCL_PLATFORM = "Portable Computing Language";

    private SignalChaining() {
    }

    /** Why the platform named {@code platformName} is left out in this JVM, or null to use it. */
    static String skipReason(String platformName) {
        return skipReason(platformName, System.getProperty(PROPERTY), jsigLoaded(), System.getProperty("java.home"));
    }

    /**
     * Why the platform is left out, or null to use it: only PoCL, and only when {@code libjsig} is not loaded and
     * {@code property} does not say {@code unchained}.
     *
     * @throws IllegalArgumentException when {@code property} is neither {@code chained} nor {@code unchained}
     */
    static String skipReason(String platformName, String property, boolean jsigLoaded, String javaHome) {
        String mode = property == null ? "chained" : property.trim().toLowerCase(Locale.ROOT);
        if (!mode.equals("chained") && !mode.equals("unchained")) {
            throw new IllegalArgumentException(PROPERTY + " must be 'chained' or 'unchained', not '" + property + "'");
        }
        if (platformName == null || !platformName.contains(POCL_PLATFORM) || jsigLoaded || mode.equals("unchained")) {
            return null;
        }
        return "PoCL is left out: the LLVM it starts replaces the JVM's SIGSEGV handler, and the JVM can then die "
                + "with a plain segmentation fault. Start the JVM with LD_PRELOAD=" + javaHome + "/lib/libjsig.so "
                + "(./fuse4j does) so the JVM chains the handlers, or set -D" + PROPERTY + "=unchained to use PoCL "
                + "anyway";
    }

    /** Whether the JDK's {@code libjsig.so} is mapped into this process; false where {@code /proc} cannot tell. */
    static boolean jsigLoaded() {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return false;
        }
        try (Stream<String> lines = Files.lines(maps)) {
            return mapsLibjsig(lines);
        } catch (IOException | UncheckedIOException e) {
            return false;
        }
    }

    /** Whether lines of {@code /proc/self/maps} map a file named {@code libjsig.so}. */
    static boolean mapsLibjsig(Stream<String> mapsLines) {
        return mapsLines.anyMatch(l -> l.endsWith("/libjsig.so"));
    }
}
