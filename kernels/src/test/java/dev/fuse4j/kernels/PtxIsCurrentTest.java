package dev.fuse4j.kernels;

import dev.fuse4j.contract.Required;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed PTX (what users without nvcc run) must match its sources: always by the recorded hash of the
 * sources, and, wherever nvcc is on the PATH, by running make-ptx again and comparing the PTX itself.
 */
class PtxIsCurrentTest {
    static final Path CUDA = Path.of("src/main/cuda");
    static final Path RES = Path.of("src/main/resources/dev/fuse4j/kernels");
    private static final Path MAKE_PTX = Path.of("make-ptx");
    private static final String FIX = "run kernels/make-ptx (needs nvcc) and commit the PTX";

    @Test
    void recordedSourceHashMatchesTheSources() throws Exception {
        String recorded = Files.readString(RES.resolve("fuse4j.ptx.sources.sha256")).trim();
        assertEquals(recorded, sourcesHash(), "fuse4j.ptx is stale against fuse4j.cu, fused_linear.cu, "
                + "fuse4j_common.h, elementwise.h, the nvcc flags or make-ptx: " + FIX);
    }

    @Test
    void nvccReproducesTheCommittedPtx() throws Exception {
        Required.assume("nvcc", Tools.onPath("nvcc") != null,
                "nvcc is not on the PATH: the PTX is checked by its sources' hash only");
        Path dir = Files.createTempDirectory("fuse4j-ptx");
        Path out = dir.resolve("fuse4j.ptx");
        try {
            Tools.Result r = Tools.run(List.of("bash", MAKE_PTX.toString(), dir.toString()), 300);
            assertEquals(0, r.exitCode(), "make-ptx failed:\n" + r.output());
            String committed = Files.readString(RES.resolve("fuse4j.ptx"));
            String made = Files.readString(out);
            // Another nvcc release writes other (equally valid) PTX: only the same release can judge staleness.
            Required.assume("nvcc", compiler(committed).equals(compiler(made)), "nvcc here is '" + compiler(made)
                    + "' but the committed PTX was made by '" + compiler(committed)
                    + "': the PTX is checked by its sources' hash only");
            assertTrue(made.equals(committed),
                    "nvcc's PTX differs from the committed fuse4j.ptx: " + FIX);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(dir);
        }
    }

    /** The line in which nvcc names its release ("Cuda compilation tools, release 13.0, V13.0.88"). */
    private static String compiler(String ptx) {
        return ptx.lines().filter(l -> l.contains("Cuda compilation tools")).findFirst()
                .map(l -> l.replaceFirst("^//\\s*", "")).orElse("unknown nvcc");
    }

    /** SHA-256 over the same files, in the same order, as make-ptx hashes them. */
    static String sourcesHash() throws IOException, NoSuchAlgorithmException {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(Files.readAllBytes(CUDA.resolve("fuse4j.cu")));
        sha.update(Files.readAllBytes(CUDA.resolve("fused_linear.cu")));
        sha.update(Files.readAllBytes(RES.resolve("fuse4j_common.h")));
        sha.update(Files.readAllBytes(RES.resolve("elementwise.h")));
        sha.update(Files.readAllBytes(CUDA.resolve("nvcc-flags")));
        sha.update(Files.readAllBytes(MAKE_PTX));
        return HexFormat.of().formatHex(sha.digest());
    }
}
