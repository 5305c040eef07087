package dev.fuse4j.bench.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fuse4j.BackendStatus;
import dev.fuse4j.bench.report.SvgBarChart;
import dev.fuse4j.spi.LinearShape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The table, the JSON and the HTML report with its SVG charts, on a hand-made run whose figures are known. */
class ReportTest {
    private static final LinearShape A = new LinearShape(10, 100, 50);   // 2·10·100·50 = 100 000 flops
    private static final LinearShape B = new LinearShape(20, 100, 50);   // 200 000 flops
    /** A backend name with every character HTML and JSON must escape. */
    static final String ODD = "odd<&>\"'\\name";
    /** The FMA loop falls short of the library SGEMM, which sets the 200 GFLOP/s peak. */
    static final MachinePeak.Peak PEAK = new MachinePeak.Peak(List.of(
            new MachinePeak.Candidate("FMA loop (512-bit vectors, 12 chains)", 1, List.of(100.0)),
            new MachinePeak.Candidate("FMA loop (512-bit vectors, 12 chains)", 2, List.of(170.0, 180.0)),
            new MachinePeak.Candidate("openblas sgemm 2048³", 1, List.of(110.0)),
            new MachinePeak.Candidate("openblas sgemm 2048³", 2, List.of(200.0))));

    /**
     * cpu does shape A in 1 µs (100 GFLOP/s), the plain-Java peer in 4 µs (25 GFLOP/s); at B they take 2 µs and
     * 16 µs, the peer timed on 5 of 20 rows (4 µs for 5 rows is 12.5 GFLOP/s). The odd-named backend does A in
     * 2 µs and failed at B. Alone, OpenBLAS's GEMM does A's product in 0.8 µs (125 GFLOP/s) and PyTorch's in 2 µs;
     * at B, OpenBLAS's threw.
     */
    static Results sample(boolean failedCheck) {
        List<Results.Timing> t = List.of(
                new Results.Timing("cpu", false, true, A, 10, stats(1e-6), stats(4e-6), null),
                new Results.Timing(ODD, false, false, A, 10, stats(2e-6), stats(2e-6), null),
                new Results.Timing("plain-java", true, true, A, 10, stats(4e-6), stats(16e-6), null),
                new Results.Timing("cpu", false, true, B, 20, stats(2e-6), stats(8e-6), null),
                Results.Timing.failed(ODD, false, false, B, "java.lang.IllegalStateException: out of <memory>"),
                new Results.Timing("plain-java", true, true, B, 5, stats(4e-6), stats(16e-6), null));
        List<CrossCheck.Result> checks = List.of(
                new CrossCheck.Result("cpu", false, A, failedCheck ? 3 : 0, 500, 0.1, 0.2, null),
                new CrossCheck.Result(ODD, false, A, 0, 500, 0.3, 0.4, null),
                new CrossCheck.Result("plain-java", true, A, 0, 500, 0.5, Double.NaN, null));
        return new Results("test machine <2 cores>", PEAK, 0.5f, 10,
                List.of(BackendStatus.available("cpu", "vector"), BackendStatus.available(ODD, "a <device>"),
                        BackendStatus.unavailable("cuda", "no driver")),
                List.of(new Results.PeerNote("plain-java", "loops", null),
                        new Results.PeerNote("openblas", "", "no native BLAS")),
                checks, t, List.of(
                        new Results.GemmTiming("openblas sgemm", 2, A, stats(0.8e-6), null),
                        new Results.GemmTiming("pytorch matmul", 1, A, stats(2e-6), null),
                        Results.GemmTiming.failed("openblas sgemm", 2, B, "java.lang.IllegalStateException: <xerbla>")));
    }

    private static Stats stats(double median) {
        return new Stats(median, median * 0.9, median * 1.2, 5);
    }

    @Test
    void tableShowsFiguresRatiosMarksAndReasons() {
        String table = TableFormatter.format(sample(false));
        assertTrue(table.contains("cuda: unavailable (no driver)"), table);
        assertTrue(table.contains("CPU peak 200 GFLOP/s = openblas sgemm 2048³ on 2 threads; also measured "
                + "(GFLOP/s): FMA loop (512-bit vectors, 12 chains) on 1 thread 100, FMA loop (512-bit vectors, 12 "
                + "chains) on 2 threads 180 (best of 170, 180), openblas sgemm 2048³ on 1 thread 110"), table);
        assertTrue(table.contains("openblas: skipped (no native BLAS)"), table);
        String cpuA = row(table, "cpu", A + " ");
        assertTrue(cpuA.contains(" 100 "), cpuA);           // forward GFLOP/s
        assertTrue(cpuA.contains(" 50.0 "), cpuA);          // backward: 200 000 flops in 4 µs
        assertTrue(cpuA.contains("4.00x"), cpuA);           // against the peer's 25 GFLOP/s
        assertTrue(cpuA.contains("50.0%"), cpuA);           // of the 200 GFLOP/s peak
        assertTrue(cpuA.contains("0.80x"), cpuA);           // against OpenBLAS's GEMM alone, the faster one
        assertTrue(row(table, "peer plain-java", A.toString()).matches(".* 25\\.0 .* - +- +- .*"),
                "a peer has no ratios to peers or GEMMs");
        String gemmA = row(table, "openblas sgemm", A.toString());
        assertTrue(gemmA.matches(".* 125 +0\\.00 \\(0\\.00-0\\.00\\) +2 +5$"), gemmA);   // µs in ms, 2 threads
        assertTrue(row(table, "pytorch matmul", A.toString()).contains(" 50.0 "), table);
        assertTrue(row(table, "openblas sgemm", B.toString()).contains("failed: java.lang.IllegalStateException"),
                table);
        assertTrue(row(table, "cpu", B + " ").matches(".*8\\.00x +- .*"), "no GEMM ran at B");
        assertTrue(row(table, "cpu", B + " ").contains("8.00x"), "100 against the capped peer's 12.5");
        String peerB = row(table, "peer plain-java", B + "*");
        assertTrue(peerB.contains(" 12.5 "), peerB);
        assertTrue(table.contains("plain-java 5/20 rows at " + B), table);
        assertTrue(row(table, ODD, B.toString()).contains("failed: java.lang.IllegalStateException"), table);
        assertTrue(row(table, ODD, A.toString()).contains(" - "), "no % peak for a device that is not this CPU");
        assertFalse(table.contains("FAILED"), table);
        String failed = TableFormatter.format(sample(true));
        assertTrue(failed.contains("FAILED"), failed);
        assertTrue(row(failed, "cpu " + TableFormatter.FAILED_MARK, A.toString()).contains("100"), failed);
    }

    @Test
    void jsonParsesBackWithEveryRowAndDerivedFigure() throws Exception {
        JsonNode j = new ObjectMapper().readTree(ResultsJson.write(sample(false)));
        assertEquals("test machine <2 cores>", j.get("machine").asText());
        assertEquals(200, j.get("peakGflops").asDouble(), 1e-9);
        assertTrue(j.get("peakMethod").asText().startsWith("200 GFLOP/s = openblas sgemm 2048³ on 2 threads"),
                j.get("peakMethod").asText());
        assertEquals("openblas sgemm 2048³", j.get("peakSetBy").get("method").asText());
        assertEquals(2, j.get("peakSetBy").get("threads").asInt());
        assertEquals(4, j.get("peakCandidates").size());
        JsonNode loop = j.get("peakCandidates").get(1);
        assertEquals("FMA loop (512-bit vectors, 12 chains)", loop.get("method").asText());
        assertEquals(180, loop.get("gflops").asDouble(), 1e-9);
        assertEquals(170, loop.get("samples").get(0).asDouble(), 1e-9);
        assertEquals(3, j.get("backends").size());
        assertEquals(ODD, j.get("backends").get(1).get("name").asText(), "escaped and read back intact");
        assertEquals("no driver", j.get("backends").get(2).get("reason").asText());
        assertFalse(j.get("peers").get(1).get("ran").asBoolean());
        assertEquals(3, j.get("checks").size());
        assertTrue(j.get("checks").get(2).get("peer").asBoolean());
        assertTrue(j.get("checks").get(2).get("backwardErrorRatio").isNull(), "a peer's backward is not checked");
        assertTrue(j.get("checks").get(2).get("passed").asBoolean());
        assertTrue(j.get("allChecksPassed").asBoolean());
        JsonNode timings = j.get("timings");
        assertEquals(6, timings.size());
        JsonNode cpuA = timings.get(0);
        assertEquals("cpu", cpuA.get("who").asText());
        assertEquals(A.toString(), cpuA.get("shape").asText());
        assertEquals(100, cpuA.get("forwardGflops").asDouble(), 1e-3);
        assertEquals(50, cpuA.get("backwardGflops").asDouble(), 1e-3);
        assertEquals(4, cpuA.get("forwardSpeedupOverBestPeer").asDouble(), 1e-6);
        assertEquals(0.5, cpuA.get("fractionOfCpuPeak").asDouble(), 1e-6);
        assertEquals(1e-3, cpuA.get("forwardMs").get("median").asDouble(), 1e-12);
        assertEquals(5, cpuA.get("forwardMs").get("reps").asInt());
        assertEquals(0.8, cpuA.get("forwardOverBestGemm").asDouble(), 1e-6);
        assertTrue(timings.get(3).get("forwardOverBestGemm").isNull(), "no GEMM ran at B");
        JsonNode gemms = j.get("gemms");
        assertEquals(3, gemms.size());
        assertEquals("openblas sgemm", gemms.get(0).get("label").asText());
        assertEquals(2, gemms.get(0).get("threads").asInt());
        assertEquals(A.toString(), gemms.get(0).get("shape").asText());
        assertEquals(125, gemms.get(0).get("gflops").asDouble(), 1e-3);
        assertEquals(0.8e-3, gemms.get(0).get("ms").get("median").asDouble(), 1e-12);
        assertTrue(gemms.get(2).get("gflops").isNull());
        assertTrue(gemms.get(2).get("error").asText().contains("<xerbla>"));
        JsonNode peerB = timings.get(5);
        assertEquals(5, peerB.get("rowsTimed").asInt());
        assertTrue(peerB.get("forwardSpeedupOverBestPeer").isNull(), "a peer has no ratio to itself");
        JsonNode failed = timings.get(4);
        assertTrue(failed.get("forwardGflops").isNull());
        assertTrue(failed.get("error").asText().contains("out of <memory>"));
        assertFalse(new ObjectMapper().readTree(ResultsJson.write(sample(true))).get("allChecksPassed").asBoolean());
        assertTrue(new ObjectMapper().readTree(ResultsJson.write(sample(true))).get("timings").get(0)
                .get("crossCheckFailed").asBoolean());
    }

    @Test
    void chartHasOneBarPerSeriesAndShapeWithProportionalHeights() {
        Results r = sample(false);
        String svg = HtmlReport.chart(r, List.of(A, B), List.of("cpu", ODD, "plain-java"), Map.of(),
                Results.Timing::forwardGflops, "GFLOP/s", Double.NaN);
        List<Bar> bars = bars(svg);
        assertEquals(5, bars.size(), "3 at A, 2 at B (the failed case has no bar)\n" + svg);
        Map<String, Double> heights = new HashMap<>();
        for (Bar b : bars) {
            heights.put(b.series + "@" + b.group, b.height);
        }
        double pixelsPerGflop = heights.get("cpu@" + A) / 100;
        for (Bar b : bars) {
            assertEquals(b.value * pixelsPerGflop, b.height, 0.01, "height proportional to value: " + b);
        }
        double cpuA = heights.get("cpu@" + A);
        assertEquals(cpuA / 4, heights.get("plain-java@" + A), 0.01, "25 GFLOP/s is a quarter of 100");
        assertEquals(cpuA / 8, heights.get("plain-java@" + B), 0.01, "12.5 GFLOP/s is an eighth of 100");
        assertEquals(cpuA / 2, heights.get(ODD + "@" + A), 0.01);
        assertTrue(cpuA <= SvgBarChart.PLOT_HEIGHT && cpuA > SvgBarChart.PLOT_HEIGHT / 2.0, "the axis fits the top");
    }

    @Test
    void speedupChartHasBackendsOnlyAndAReferenceLine() {
        Results r = sample(false);
        String svg = HtmlReport.chart(r, List.of(A, B), List.of("cpu", ODD), Map.of(), r::forwardSpeedup, "x",
                1.0);
        List<Bar> bars = bars(svg);
        assertEquals(3, bars.size(), svg);
        assertTrue(bars.stream().noneMatch(b -> b.series.equals("plain-java")));
        assertEquals(4.0, bars.stream().filter(b -> b.series.equals("cpu") && b.group.equals(A.toString()))
                .findFirst().orElseThrow().value, 1e-9);
        assertTrue(svg.contains("class=\"reference\""), "a dashed line at 1x");
    }

    @Test
    void htmlHasEveryRowEscapedAndNothingExternal() {
        Results r = sample(true);
        String html = HtmlReport.write(r, TableFormatter.format(r));
        assertEquals(r.timings().size(), count(html, "<tr class=\"timing\">"));
        assertEquals(r.checks().size(), count(html, "<tr class=\"check\">"));
        assertEquals(r.gemms().size(), count(html, "<tr class=\"gemm\">"));
        assertTrue(html.contains("&lt;xerbla&gt;"), "a GEMM's failure, escaped");
        assertTrue(html.contains("<td class=\"num\">0.80\u00d7</td>"), "cpu at A against the GEMM alone");
        assertEquals(3, count(html, "<svg"), "forward, backward and speed-up charts");
        assertTrue(html.contains("test machine &lt;2 cores&gt;"), "text is escaped");
        assertTrue(html.contains("odd&lt;&amp;&gt;&quot;&#39;\\name"), "names are escaped");
        assertFalse(html.contains(ODD), "the raw odd name never reaches the page");
        assertTrue(html.contains("A cross-check failed"));
        assertTrue(html.contains("FAILED"));
        assertTrue(html.contains(">no driver<"), "the probe list with reasons");
        assertTrue(html.contains("(5 rows)"), "the capped peer says on how many rows it ran");
        assertEquals(PEAK.candidates().size(), count(html, "<tr class=\"peak\">"), "every peak candidate listed");
        assertEquals(1, count(html, ">the peak<"), "one candidate marked as the peak");
        assertTrue(html.contains("<tr class=\"peak\"><td>openblas sgemm 2048³</td><td class=\"num\">2</td>"),
                "the marked row is the SGEMM on 2 threads:\n" + html);
        assertTrue(html.contains("CPU peak: 200 GFLOP/s = openblas sgemm 2048³ on 2 threads"), html);
        assertFalse(html.contains("<script") || html.contains("src=") || html.contains("href=")
                || html.contains("@import"), "no script and no external resource");
    }

    private record Bar(String series, String group, double value, double height) {
    }

    private static List<Bar> bars(String svg) {
        Matcher m = Pattern.compile("<rect class=\"bar\" data-series=\"([^\"]*)\" data-group=\"([^\"]*)\" "
                + "data-value=\"([^\"]+)\" x=\"\\d+\" y=\"[-0-9.]+\" width=\"\\d+\" height=\"([0-9.]+)\"").matcher(svg);
        List<Bar> out = new ArrayList<>();
        while (m.find()) {
            out.add(new Bar(unescape(m.group(1)), unescape(m.group(2)), Double.parseDouble(m.group(3)),
                    Double.parseDouble(m.group(4))));
        }
        return out;
    }

    private static String unescape(String s) {
        return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
                .replace("&amp;", "&");
    }

    /** The timing-table line for {@code who} at {@code shape}. */
    private static String row(String table, String who, String shape) {
        return table.substring(table.indexOf("Timings")).lines()
                .filter(l -> l.trim().startsWith(who + " ") && l.contains(" " + shape)).findFirst()
                .orElseThrow(() -> new AssertionError("no row for '" + who + "' at '" + shape + "' in\n" + table));
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
