package dev.fuse4j.bench.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fuse4j.bench.peers.OpenBlasPeer;
import dev.fuse4j.contract.Required;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Short real runs: tiny shapes, few reps, every available backend and the plain-Java peer, or cpu and OpenBLAS. */
class CompareCommandTest {

    @Test
    void tinyRunCrossChecksTimesAndWritesTheReport(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = CompareCommand.run(new String[] {"--shapes", "8x16x12,33x17x9", "--reps", "2", "--warmup", "1",
            "--budget", "0.4", "--peers", "plain-java", "--out", dir.toString()}, print(out), print(err));
        String table = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, "a cross-check failed:\n" + table + err);

        JsonNode j = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
        assertTrue(j.get("allChecksPassed").asBoolean());
        assertTrue(j.get("peakGflops").asDouble() > 0);
        boolean cpuChecked = false;
        for (JsonNode c : j.get("checks")) {
            assertTrue(c.get("passed").asBoolean(), c.toString());
            cpuChecked |= c.get("backend").asText().equals("cpu");
        }
        assertTrue(cpuChecked, "cpu is cross-checked");
        assertTrue(has(j, "cpu", "8x16->12"), j.toPrettyString());
        assertTrue(has(j, "cpu", "33x17->9"), j.toPrettyString());
        assertTrue(has(j, "plain-java", "8x16->12"), j.toPrettyString());
        for (JsonNode t : j.get("timings")) {
            assertTrue(t.get("error").isNull(), t.toString());
            assertTrue(t.get("forwardGflops").asDouble() > 0 && t.get("backwardGflops").asDouble() > 0, t.toString());
        }

        String html = Files.readString(dir.resolve("report.html"));
        assertTrue(html.contains("data-series=\"cpu\" data-group=\"8x16-&gt;12\""), "a bar for cpu at 8x16->12");
        assertTrue(table.contains("Timings") && table.contains("peer plain-java"), table);
        String progress = err.toString(StandardCharsets.UTF_8);
        assertTrue(progress.contains("timing cpu at 8x16->12") && progress.contains("/"), progress);
    }

    /** With OpenBLAS raced, its SGEMM is timed alone at each shape and the cpu rows get their ratio to it. */
    @Test
    void aRacedLibrarysGemmIsTimedAloneAtEachShape(@TempDir Path dir) throws Exception {
        OpenBlasPeer blas = new OpenBlasPeer();
        Required.assume("openblas", blas.unavailableReason() == null, "OpenBLAS peer: " + blas.unavailableReason());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = CompareCommand.run(new String[] {"--shapes", "8x16x12,33x17x9", "--reps", "2", "--warmup", "1",
            "--budget", "0.4", "--no-check", "--backends", "cpu", "--peers", "openblas", "--out", dir.toString()},
                print(out), print(new ByteArrayOutputStream()));
        String table = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, table);
        JsonNode j = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
        JsonNode gemms = j.get("gemms");
        assertEquals(2, gemms.size(), gemms.toPrettyString());
        for (int i = 0; i < 2; i++) {
            JsonNode g = gemms.get(i);
            assertEquals("openblas sgemm", g.get("label").asText());
            assertEquals(i == 0 ? "8x16->12" : "33x17->9", g.get("shape").asText());
            assertEquals(blas.threads().orElseThrow(), g.get("threads").asInt(), "the threads its peer ran with");
            assertTrue(g.get("error").isNull() && g.get("gflops").asDouble() > 0, g.toString());
        }
        for (JsonNode t : j.get("timings")) {
            JsonNode ratio = t.get("forwardOverBestGemm");
            if (t.get("peer").asBoolean()) {
                assertTrue(ratio.isNull(), t.toString());
            } else {
                JsonNode g = gemms.get(t.get("shape").asText().equals("8x16->12") ? 0 : 1);
                double expected = t.get("forwardGflops").asDouble() / g.get("gflops").asDouble();
                assertEquals(expected, ratio.asDouble(), 1e-5 * expected, "to JSON's six digits: " + t);
            }
        }
        assertTrue(table.contains("Library GEMM alone") && table.contains("fwd/gemm"), table);
    }

    @Test
    void badOptionsExitWithTwoAndSayWhy(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, CompareCommand.run(new String[] {"--peers", "numpy", "--out", dir.toString()},
                print(new ByteArrayOutputStream()), print(err)));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown peer 'numpy'"), err.toString());
        err.reset();
        assertEquals(2, CompareCommand.run(new String[] {"--backends", "tpu"}, print(new ByteArrayOutputStream()),
                print(err)));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("tpu"), err.toString());
        assertFalse(Files.exists(dir.resolve("results.json")), "nothing is written for bad options");
        err.reset();
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        assertEquals(2, CompareCommand.run(new String[] {"--out", file.toString()}, print(new ByteArrayOutputStream()),
                print(err)));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--out '" + file + "' cannot be made into a folder"),
                err.toString());
    }

    private static boolean has(JsonNode j, String who, String shape) {
        for (JsonNode t : j.get("timings")) {
            if (t.get("who").asText().equals(who) && t.get("shape").asText().equals(shape)) {
                return true;
            }
        }
        return false;
    }

    private static PrintStream print(ByteArrayOutputStream b) {
        return new PrintStream(b, true, StandardCharsets.UTF_8);
    }
}
