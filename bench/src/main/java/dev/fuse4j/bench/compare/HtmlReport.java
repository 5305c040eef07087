package dev.fuse4j.bench.compare;

import dev.fuse4j.BackendStatus;
import dev.fuse4j.bench.report.Html;
import dev.fuse4j.bench.report.Numbers;
import dev.fuse4j.bench.report.SvgBarChart;
import dev.fuse4j.spi.LinearShape;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

import static dev.fuse4j.bench.report.Html.escape;
import static dev.fuse4j.bench.report.Numbers.fixed;

/**
 * A run as a self-contained {@code report.html}: charts of forward and backward throughput by shape, the speed-up
 * of each backend over the best peer, the timing table, the cross-checks, and what the probe found. Inline CSS and
 * SVG only, no script and no external resource, so it opens anywhere and travels as one file.
 */
final class HtmlReport {
    /** Colours of the series, given out in order of first appearance so every chart colours a name the same. */
    private static final String[] PALETTE = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
        "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    private static final String STYLE = "body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1180px;"
            + "padding:0 16px;color:#222}\nh1{margin-bottom:4px}h2{margin-top:28px;border-bottom:1px solid #ddd}\n"
            + "table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;text-align:left;"
            + "border-bottom:1px solid #eee;vertical-align:top}th{background:#f4f4f4}\n"
            + "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
            + "td.who,td.shape{white-space:nowrap}.range{color:#777;font-size:11px}\n"
            + ".fail{color:#c00;font-weight:bold}.ok{color:#080}.muted{color:#777}\n"
            + "pre{background:#f6f6f6;padding:12px;overflow-x:auto;font-size:11px}\n"
            + "svg.chart{max-width:100%;height:auto}\n";

    private HtmlReport() {
    }

    static String write(Results r, String plainTable) {
        List<LinearShape> shapes = new ArrayList<>(new LinkedHashSet<>(r.timings().stream().map(Results.Timing::shape)
                .toList()));
        List<String> all = new ArrayList<>(new LinkedHashSet<>(r.timings().stream().map(Results.Timing::who)
                .toList()));
        List<String> backends = new ArrayList<>(new LinkedHashSet<>(r.timings().stream().filter(t -> !t.peer())
                .map(Results.Timing::who).toList()));
        Map<String, String> colours = new LinkedHashMap<>();
        for (String who : all) {
            colours.put(who, PALETTE[colours.size() % PALETTE.length]);
        }

        StringBuilder sb = new StringBuilder();
        sb.append("<h1>Fuse4J compare</h1>\n<p>").append(escape(r.machine())).append("<br>CPU peak: ")
                .append(escape(r.peak().describe())).append("<br>Dropout p = ").append(r.p())
                .append(" in training; median of the timed calls; a forward counts 2&middot;n&middot;in&middot;out")
                .append(" flops, a backward 4&middot;n&middot;in&middot;out.</p>\n");
        if (r.checks().isEmpty()) {
            sb.append("<p class=\"muted\">Cross-check skipped (--no-check).</p>\n");
        } else if (r.allChecksPassed()) {
            sb.append("<p class=\"ok\">Every backend passed the cross-check against the float64 reference.</p>\n");
        } else {
            sb.append("<p class=\"fail\">A cross-check failed: the figures of a backend marked ")
                    .append(TableFormatter.FAILED_MARK).append(" are not to be trusted.</p>\n");
        }

        sb.append("<h2>Forward throughput by shape (GFLOP/s, higher is better)</h2>\n")
                .append(chart(r, shapes, all, colours, Results.Timing::forwardGflops, "forward GFLOP/s", Double.NaN));
        sb.append("<h2>Backward throughput by shape (GFLOP/s)</h2>\n")
                .append(chart(r, shapes, all, colours, Results.Timing::backwardGflops, "backward GFLOP/s",
                        Double.NaN));
        sb.append("<h2>Speed-up of each backend over the best peer at the same shape (forward)</h2>\n");
        if (r.peers().stream().anyMatch(p -> p.reason() == null)) {
            sb.append(chart(r, shapes, backends, colours, r::forwardSpeedup, "times the best peer", 1.0));
        } else {
            sb.append("<p class=\"muted\">No peer ran, so there is nothing to compare with.</p>\n");
        }
        if (r.anyCapped()) {
            sb.append("<p class=\"muted\">").append(TableFormatter.CAPPED_MARK).append(" Timed on the first rows of ")
                    .append("the batch only, to fit the budget of ").append(Numbers.plain(r.budgetSeconds()))
                    .append(" s per case; the cost per row, so GFLOP/s, is the same.</p>\n");
        }

        sb.append("<h2>Timings</h2>\n").append(timingTable(r));
        if (!r.gemms().isEmpty()) {
            sb.append("<h2>Library GEMM alone</h2>\n").append(gemmTable(r));
        }
        sb.append("<h2>CPU peak: what was measured</h2>\n").append(peakTable(r.peak()));
        if (!r.checks().isEmpty()) {
            sb.append("<h2>Cross-check against the float64 reference</h2>\n").append(checkTable(r));
        }
        sb.append("<h2>Backends found</h2>\n<table><tr><th>name</th><th>status</th><th>device or reason</th></tr>\n");
        for (BackendStatus s : r.probe()) {
            sb.append("<tr><td>").append(escape(s.name())).append("</td><td class=\"")
                    .append(s.available() ? "ok\">available" : "muted\">unavailable").append("</td><td>")
                    .append(escape(s.available() ? s.device() : s.reason())).append("</td></tr>\n");
        }
        sb.append("</table>\n<h2>Peers</h2>\n<table><tr><th>name</th><th>status</th><th>what or why not</th></tr>\n");
        for (Results.PeerNote p : r.peers()) {
            sb.append("<tr><td>").append(escape(p.name())).append("</td><td class=\"")
                    .append(p.reason() == null ? "ok\">ran" : "muted\">skipped").append("</td><td>")
                    .append(escape(p.reason() == null ? p.description() : p.reason())).append("</td></tr>\n");
        }
        sb.append("</table>\n<details><summary>The table as printed</summary>\n<pre>").append(escape(plainTable))
                .append("</pre></details>\n");
        return Html.document("Fuse4J compare", STYLE, sb.toString());
    }

    /** One chart of {@code figure} for {@code series} (by name) at every shape. */
    static String chart(Results r, List<LinearShape> shapes, List<String> series, Map<String, String> colours,
                        ToDoubleFunction<Results.Timing> figure, String unit, double reference) {
        return SvgBarChart.render(shapes.stream().map(LinearShape::toString).toList(), series, colours,
                (s, g) -> r.timings().stream()
                        .filter(t -> t.ran() && t.who().equals(series.get(s)) && t.shape().equals(shapes.get(g)))
                        .mapToDouble(figure).findFirst().orElse(Double.NaN), unit, reference);
    }

    /** Every peak candidate with its figure; the one that set the peak is marked. */
    private static String peakTable(MachinePeak.Peak peak) {
        StringBuilder sb = new StringBuilder("<table><tr><th>method</th><th>threads</th><th>GFLOP/s</th>"
                + "<th>samples</th><th></th></tr>\n");
        MachinePeak.Candidate best = peak.best();
        for (MachinePeak.Candidate c : peak.candidates()) {
            sb.append("<tr class=\"peak\"><td>").append(escape(c.method())).append("</td>")
                    .append(num(Integer.toString(c.threads()))).append(num(fixed(c.gflops())))
                    .append(num(c.samples().stream().map(Numbers::fixed).collect(Collectors.joining(", "))))
                    .append("<td class=\"ok\">").append(c == best ? "the peak" : "").append("</td></tr>\n");
        }
        return sb.append("</table>\n").toString();
    }

    private static String timingTable(Results r) {
        StringBuilder sb = new StringBuilder("<table><tr><th>backend or peer</th><th>shape</th><th>fwd GFLOP/s</th>"
                + "<th>fwd ms<br>median, range</th><th>bwd GFLOP/s</th><th>bwd ms<br>median, range</th>"
                + "<th>fwd GB/s</th><th>fwd &times; best peer</th><th>fwd &times; best GEMM alone</th>"
                + "<th>bwd &times; best peer</th><th>% of CPU peak</th><th>fwd reps</th></tr>\n");
        for (Results.Timing t : r.timings()) {
            boolean failed = r.checkFailed(t.who());
            sb.append("<tr class=\"timing\"><td class=\"who").append(failed ? " fail" : "").append("\">")
                    .append(t.peer() ? "peer " : "").append(escape(t.who()))
                    .append(failed ? " " + TableFormatter.FAILED_MARK : "").append("</td><td class=\"shape\">")
                    .append(escape(t.shape().toString())).append(t.capped() ? TableFormatter.CAPPED_MARK + " <span "
                            + "class=\"muted\">(" + t.rowsTimed() + " rows)</span>" : "").append("</td>");
            if (!t.ran()) {
                sb.append(failedRest(10, t.error()));
                continue;
            }
            sb.append(num(fixed(t.forwardGflops()))).append(ms(t.forward()))
                    .append(num(fixed(t.backwardGflops()))).append(ms(t.backward()))
                    .append(num(fixed(t.forwardGBs()))).append(num(times(r.forwardSpeedup(t))))
                    .append(num(times(r.forwardOverGemm(t)))).append(num(times(r.backwardSpeedup(t))))
                    .append(num(percent(t.fractionOf(r.peak().gflops()))))
                    .append(num(Integer.toString(t.forward().reps()))).append("</tr>\n");
        }
        return sb.append("</table>\n").toString();
    }

    /** The rest of a row whose case threw: one cell across its {@code columns} figures, saying what was thrown. */
    private static String failedRest(int columns, String error) {
        return "<td colspan=\"" + columns + "\" class=\"fail\">failed: " + escape(error) + "</td></tr>\n";
    }

    private static String gemmTable(Results r) {
        StringBuilder sb = new StringBuilder("<p>The forward's product alone (no bias, ReLU or dropout) in each raced"
                + " peer's library, on the threads its peer ran with: what &ldquo;fwd &times; best GEMM alone&rdquo;"
                + " divides by.</p>\n<table><tr><th>library</th><th>shape</th><th>GFLOP/s</th><th>ms<br>median, range"
                + "</th><th>threads</th><th>reps</th></tr>\n");
        for (Results.GemmTiming g : r.gemms()) {
            sb.append("<tr class=\"gemm\"><td class=\"who\">").append(escape(g.label()))
                    .append("</td><td class=\"shape\">").append(escape(g.shape().toString())).append("</td>");
            if (!g.ran()) {
                sb.append(failedRest(4, g.error()));
                continue;
            }
            sb.append(num(fixed(g.gflops()))).append(ms(g.forward())).append(num(Integer.toString(g.threads())))
                    .append(num(Integer.toString(g.forward().reps()))).append("</tr>\n");
        }
        return sb.append("</table>\n").toString();
    }

    private static String checkTable(Results r) {
        StringBuilder sb = new StringBuilder("<p>Masks compared bit for bit with the Philox contract; errors of y and"
                + " of dx, dw, db as a fraction of the bound |y &minus; ref| &le; 2&middot;K&middot;2<sup>&minus;24"
                + "</sup>&middot;(|b| + &Sigma;|x&middot;w|)&middot;s (&le; 1 passes). Peers are checked on the forward"
                + " only; PyTorch, whose dropout has its own generator, in eval mode.</p>\n<table><tr><th>backend or"
                + " peer</th><th>shape</th><th>mask elements differing</th><th>forward error / bound</th>"
                + "<th>backward error / bound</th><th>result</th></tr>\n");
        for (CrossCheck.Result c : r.checks()) {
            sb.append("<tr class=\"check\"><td class=\"who\">").append(c.peer() ? "peer " : "")
                    .append(escape(c.backend())).append("</td><td class=\"shape\">")
                    .append(escape(c.shape().toString())).append("</td>")
                    .append(num(c.maskDiffers() + " / " + c.maskElements()))
                    .append(num(String.format(Locale.ROOT, "%.3f", c.forwardErrorRatio())))
                    .append(num(c.peer() ? "\u2013" : String.format(Locale.ROOT, "%.3f", c.backwardErrorRatio())))
                    .append(c.passed() ? "<td class=\"ok\">ok</td>" : "<td class=\"fail\">FAILED"
                            + (c.error() == null ? "" : ": " + escape(c.error())) + "</td>").append("</tr>\n");
        }
        return sb.append("</table>\n").toString();
    }

    private static String num(String v) {
        return "<td class=\"num\">" + escape(v) + "</td>";
    }

    /** The median, and the range under it in small print. */
    private static String ms(Stats s) {
        return "<td class=\"num\">" + fixed(s.median() * 1e3) + "<br><span class=\"range\">" + fixed(s.min() * 1e3)
                + "\u2013" + fixed(s.max() * 1e3) + "</span></td>";
    }

    private static String times(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f\u00d7", v) : "\u2013";
    }

    private static String percent(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f%%", 100 * v) : "\u2013";
    }
}
