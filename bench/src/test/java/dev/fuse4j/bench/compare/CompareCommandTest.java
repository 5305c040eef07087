package dev.fuse4j.bench.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

/** Short real runs: tiny shapes, few reps, every available backend and the plain-Java peer. */
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
