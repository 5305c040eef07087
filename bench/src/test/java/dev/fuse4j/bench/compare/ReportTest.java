package dev.fuse4j.bench.compare;

import dev.fuse4j.BackendStatus;
import dev.fuse4j.bench.StandardShapes.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The table, the JSON and the SVG charts, on a hand-made run whose figures are known. */
class ReportTest {
    private static final Shape A = new Shape(10, 100, 50);   // 2·10·100·50 = 100 000 flops
    private static final Shape B = new Shape(20, 100, 50);   // 200 000 flops

    /** cpu does shape A in 1 µs (100 GFLOP/s), the peer in 4 µs (25 GFLOP/s); at B they take 2 µs and 16 µs. */
    static Results sample(boolean failedCheck) {
        List<Results.Timing> t = List.of(
                new Results.Timing("cpu", false, true, A, stats(1e-6), stats(2e-6)),
                new Results.Timing("plain-java", true, true, A, stats(4e-6), null),
                new Results.Timing("cpu", false, true, B, stats(2e-6), stats(4e-6)),
                new Results.Timing("plain-java", true, true, B, stats(16e-6), null));
        List<CrossCheck.Result> checks = List.of(new CrossCheck.Result("cpu", A, failedCheck ? 3 : 0, 500, 0.1, 0.2));
        return new Results("test machine <2 cores>", 200, 0.5f,
                List.of(BackendStatus.available("cpu", "vector"), BackendStatus.unavailable("cuda", "no driver")),
                List.of(new Results.PeerNote("plain-java", "loops", null),
                        new Results.PeerNote("openblas", "", "no native BLAS")),
                checks, t);
    }

    private static Stats stats(double median) {
        return new Stats(median, median * 0.9, median * 1.2, 5);
    }

    @Test
    void tableShowsFiguresRatiosAndReasons() {
        String table = TableFormatter.format(sample(false));
        assertTrue(table.contains("cuda: unavailable (no driver)"), table);
        assertTrue(table.contains("openblas: skipped (no native BLAS)"), table);
        String cpuA = line(table, "cpu            10x100->50");
        assertTrue(cpuA.contains("100.0"), cpuA);          // GFLOP/s
        assertTrue(cpuA.contains("4.00x"), cpuA);          // against the peer's 25 GFLOP/s
        assertTrue(cpuA.contains("50.0%"), cpuA);          // of the 200 GFLOP/s peak
        assertTrue(line(table, "cpu            20x100->50").contains("8.00x"), table);
        assertTrue(!table.contains("FAILED"), table);
        assertTrue(TableFormatter.format(sample(true)).contains("FAILED"));
    }

    @Test
    void jsonHoldsEveryRowAndDerivedFigure() {
        String json = ReportWriter.json(sample(false));
        assertEquals(4, count(json, "\"who\": "));
        assertTrue(json.contains("\"forwardGflops\": 100.000"), json);
        assertTrue(json.contains("\"ratioToBestPeer\": 4.00000"), json);
        assertTrue(json.contains("\"machine\": \"test machine <2 cores>\""), json);
        assertTrue(json.contains("\"allChecksPassed\": true"), json);
        assertTrue(json.contains("\"fractionOfCpuPeak\": 0.500000"), json);
        assertTrue(ReportWriter.json(sample(true)).contains("\"allChecksPassed\": false"));
        assertEquals("\"a\\\"b\\\\c\\n\"", ReportWriter.str("a\"b\\c\n"));
    }

    @Test
    void chartHasOneBarPerRowWithProportionalHeights() {
        String svg = ReportWriter.barChart(sample(false), Results.Timing::forwardGflops, "GFLOP/s", false);
        Matcher m = Pattern.compile("data-who=\"([^\"]+)\" data-shape=\"([^\"]+)\" data-value=\"([^\"]+)\" x=\"\\d+\" "
                + "y=\"\\d+\" width=\"\\d+\" height=\"(\\d+)\"").matcher(svg);
        int bars = 0;
        int tallest = 0;
        int peerA = -1;
        while (m.find()) {
            bars++;
            int h = Integer.parseInt(m.group(4));
            tallest = Math.max(tallest, h);
            if (m.group(1).equals("plain-java") && m.group(2).equals(A.toString())) {
                peerA = h;
            }
        }
        assertEquals(4, bars);
        assertEquals(Math.round(tallest / 4.0), peerA, "25 GFLOP/s is a quarter of the tallest bar (100)");
        String speedups = ReportWriter.barChart(sample(false), t -> t.forwardGflops(), "x", true);
        assertEquals(2, count(speedups, "class=\"bar\""), "peers have no bar in a backends-only chart");
    }

    @Test
    void htmlIsSelfContainedAndEscaped() {
        String html = ReportWriter.html(sample(true), TableFormatter.format(sample(true)));
        assertTrue(html.contains("test machine &lt;2 cores&gt;"), "names are escaped");
        assertTrue(html.contains("<svg"));
        assertTrue(html.contains("A cross-check failed"));
        assertTrue(!html.contains("<script") && !html.contains("http://cdn") && !html.contains("https://"),
                "no external resources");
    }

    /** The first line of the timing table starting with {@code start}. */
    private static String line(String text, String start) {
        return text.substring(text.indexOf("Timings")).lines().filter(l -> l.trim().startsWith(start.trim())).findFirst()
                .orElseThrow(() -> new AssertionError("no line starting with '" + start + "' in\n" + text));
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
