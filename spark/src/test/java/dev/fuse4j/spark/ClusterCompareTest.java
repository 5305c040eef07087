package dev.fuse4j.spark;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** compare on the executors, gathered into one report. */
class ClusterCompareTest {

    @Test
    void eachExecutorGivesOneSectionWithItsDevicesAndCompareTable() {
        SparkSession spark = SparkSessions.local4();
        try {
            List<ClusterCompare.Section> sections = ClusterCompare.run(
                    JavaSparkContext.fromSparkContext(spark.sparkContext()),
                    "--shapes", "64x32x16", "--backends", "cpu", "--peers", "none", "--budget", "0.4",
                    "--warmup", "1", "--reps", "2");
            assertEquals(1, sections.size(), "local mode has one executor: " + sections);
            ClusterCompare.Section s = sections.get(0);
            assertEquals("driver", s.executor());
            assertEquals(0, s.exitCode(), s.log());
            assertTrue(s.devices().lines().anyMatch(l -> l.startsWith("cpu: ")), s.devices());
            assertTrue(s.table().lines().anyMatch(l -> l.trim().startsWith("cpu") && l.contains("64x32->16")),
                    s.table());
            String report = ClusterCompare.report(sections);
            assertTrue(report.startsWith("Fuse4J compare on 1 executor\n\n== host "), report);
            assertTrue(report.contains(s.table()), report);
        } finally {
            spark.stop();
        }
    }

    @Test
    void anExecutorThatRanTwoTasksKeepsItsFirstSection() {
        ClusterCompare.Section a1 = new ClusterCompare.Section("h1", "1", "cpu: x", 0, "first", "");
        ClusterCompare.Section b = new ClusterCompare.Section("h2", "2", "cpu: y", 0, "b", "");
        ClusterCompare.Section a2 = new ClusterCompare.Section("h1", "1", "cpu: x", 0, "second", "");
        assertEquals(List.of(a1, b), ClusterCompare.firstPerExecutor(List.of(a1, b, a2)));
    }
}
