package dev.fuse4j.bench.compare;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A short real run: tiny shapes, few reps, every available backend and the plain-Java peer. */
class CompareCommandTest {

    @Test
    void tinyRunCrossChecksTimesAndWritesTheReport(@TempDir Path dir) throws Exception {
        int rc = CompareCommand.run(new String[] {"--shapes", "8x16x12,33x17x9", "--reps", "2", "--warmup", "1",
            "--budget", "0.5", "--peers", "plain-java", "--out", dir.toString()});
        assertEquals(0, rc, "a cross-check failed");
        String json = Files.readString(dir.resolve("results.json"));
        assertTrue(json.contains("\"who\": \"cpu\", \"peer\": false, \"n\": 33"), json);
        assertTrue(json.contains("\"who\": \"plain-java\", \"peer\": true, \"n\": 8"), json);
        assertTrue(json.contains("\"allChecksPassed\": true"), json);
        String html = Files.readString(dir.resolve("report.html"));
        assertTrue(html.contains("data-who=\"cpu\" data-shape=\"8x16->12\""), "one bar for cpu at the first shape");
    }
}
