package dev.fuse4j.kernels;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed PTX (what users without nvcc run) must match its sources: always by the recorded hash of the
 * sources, and, wherever nvcc is on the PATH, by compiling them again and comparing the PTX itself.
 */
class PtxIsCurrentTest {
    private static final Path CUDA = Path.of("src/main/cuda");
    private static final Path RES = Path.of("src/main/resources/dev/fuse4j/kernels");
    private static final String FIX = "run kernels/make-ptx (needs nvcc) and commit the PTX";

    @Test
    void recordedSourceHashMatchesTheSources() throws Exception {
        String recorded = Files.readString(RES.resolve("fuse4j.ptx.sources.sha256")).trim();
        assertEquals(recorded, sourcesHash(), "fuse4j.ptx is stale against fuse4j.cu, fuse4j_common.h or the nvcc "
                + "flags: " + FIX);
    }

    @Test
    void nvccReproducesTheCommittedPtx() throws Exception {
        String nvcc = onPath("nvcc");
        Assumptions.assumeTrue(nvcc != null, "nvcc is not on the PATH: the PTX is checked by its sources' hash only");
        Path out = Files.createTempFile("fuse4j", ".ptx");
        try {
            List<String> cmd = new ArrayList<>(List.of(nvcc));
            cmd.addAll(List.of(Files.readString(CUDA.resolve("nvcc-flags")).trim().split("\\s+")));
            cmd.addAll(List.of("-I", RES.toString(), "-o", out.toString(), CUDA.resolve("fuse4j.cu").toString()));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            p.getInputStream().transferTo(log);
            assertTrue(p.waitFor(300, TimeUnit.SECONDS), "nvcc took more than 5 minutes");
            assertEquals(0, p.exitValue(), "nvcc failed: " + String.join(" ", cmd) + "\n" + log);
            assertTrue(Files.readString(out).equals(Files.readString(RES.resolve("fuse4j.ptx"))),
                    "nvcc's PTX differs from the committed fuse4j.ptx: " + FIX);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    static String sourcesHash() throws IOException, NoSuchAlgorithmException {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(Files.readAllBytes(CUDA.resolve("fuse4j.cu")));
        sha.update(Files.readAllBytes(RES.resolve("fuse4j_common.h")));
        sha.update(Files.readAllBytes(CUDA.resolve("nvcc-flags")));
        return HexFormat.of().formatHex(sha.digest());
    }

    private static String onPath(String exe) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, exe);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }
}
