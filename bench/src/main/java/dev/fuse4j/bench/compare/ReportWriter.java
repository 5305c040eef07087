package dev.fuse4j.bench.compare;

import dev.fuse4j.BackendStatus;
import dev.fuse4j.bench.StandardShapes.Shape;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.function.ToDoubleFunction;

/** Writes a run as {@code results.json} and as a self-contained {@code report.html} with inline SVG charts. */
final class ReportWriter {
    /** Colours for the bars, one per backend or peer in order of first appearance. */
    private static final String[] PALETTE = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
        "#e377c2", "#7f7f7f"};

    private ReportWriter() {
    }

    // ---- JSON ----------------------------------------------------------------------------------------------

    static String json(Results r) {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"machine\": ").append(str(r.machine())).append(",\n");
        sb.append("  \"peakGflops\": ").append(num(r.peakGflops())).append(",\n");
        sb.append("  \"p\": ").append(num(r.p())).append(",\n");
        sb.append("  \"backends\": [");
        List<String> items = new ArrayList<>();
        for (BackendStatus s : r.probe()) {
            items.add("\n    {\"name\": " + str(s.name()) + ", \"available\": " + s.available() + ", \"device\": "
                    + str(s.device()) + ", \"reason\": " + str(s.reason()) + "}");
        }
        sb.append(String.join(",", items)).append("\n  ],\n  \"peers\": [");
        items.clear();
        for (Results.PeerNote p : r.peers()) {
            items.add("\n    {\"name\": " + str(p.name()) + ", \"ran\": " + (p.reason() == null)
                    + ", \"description\": " + str(p.description()) + ", \"reason\": "
                    + (p.reason() == null ? "null" : str(p.reason())) + "}");
        }
        sb.append(String.join(",", items)).append("\n  ],\n  \"checks\": [");
        items.clear();
        for (CrossCheck.Result c : r.checks()) {
            items.add("\n    {\"backend\": " + str(c.backend()) + ", \"shape\": " + str(c.shape().toString())
                    + ", \"maskDiffers\": " + c.maskDiffers() + ", \"maskElements\": " + c.maskElements()
                    + ", \"forwardErrorRatio\": " + num(c.forwardErrorRatio()) + ", \"backwardErrorRatio\": "
                    + num(c.backwardErrorRatio()) + ", \"passed\": " + c.passed() + "}");
        }
        sb.append(String.join(",", items)).append("\n  ],\n  \"timings\": [");
        items.clear();
        for (Results.Timing t : r.timings()) {
            OptionalDouble best = r.bestPeerGflops(t.shape());
            items.add("\n    {\"who\": " + str(t.who()) + ", \"peer\": " + t.peer() + ", \"n\": " + t.shape().n()
                    + ", \"in\": " + t.shape().in() + ", \"out\": " + t.shape().out()
                    + ", \"forwardMs\": " + stats(t.forward()) + ", \"backwardMs\": "
                    + (t.backward() == null ? "null" : stats(t.backward()))
                    + ", \"forwardGflops\": " + num(t.forwardGflops()) + ", \"backwardGflops\": "
                    + num(t.backwardGflops()) + ", \"forwardGBs\": " + num(t.forwardGBs())
                    + ", \"ratioToBestPeer\": " + (t.peer() || best.isEmpty() ? "null"
                    : num(t.forwardGflops() / best.getAsDouble()))
                    + ", \"onCpu\": " + t.onCpu() + ", \"fractionOfCpuPeak\": " + num(t.fractionOf(r.peakGflops()))
                    + "}");
        }
        sb.append(String.join(",", items)).append("\n  ],\n  \"allChecksPassed\": ").append(r.allChecksPassed())
                .append("\n}\n");
        return sb.toString();
    }

    private static String stats(Stats s) {
        return "{\"median\": " + num(s.median() * 1e3) + ", \"min\": " + num(s.min() * 1e3) + ", \"max\": "
                + num(s.max() * 1e3) + ", \"reps\": " + s.reps() + "}";
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
    }

    static String str(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    // ---- HTML ----------------------------------------------------------------------------------------------

    static String html(Results r, String table) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Fuse4J compare</title>\n")
                .append("<style>body{font-family:sans-serif;margin:24px;max-width:1100px}")
                .append("pre{background:#f6f6f6;padding:12px;overflow-x:auto;font-size:12px}")
                .append("td,th{padding:2px 8px;text-align:left}.fail{color:#c00;font-weight:bold}</style></head><body>\n")
                .append("<h1>Fuse4J compare</h1>\n<p>").append(esc(r.machine())).append(", measured peak ")
                .append(String.format(Locale.ROOT, "%.0f", r.peakGflops())).append(" GFLOP/s, dropout p = ")
                .append(r.p()).append("</p>\n");
        if (!r.allChecksPassed()) {
            sb.append("<p class=\"fail\">A cross-check failed: see the table below.</p>\n");
        }
        sb.append("<h2>Forward throughput by shape</h2>\n")
                .append(barChart(r, Results.Timing::forwardGflops, "GFLOP/s", false));
        sb.append("<h2>Speed-up of each backend over the best peer (forward)</h2>\n")
                .append(barChart(r, t -> t.forwardGflops() / r.bestPeerGflops(t.shape()).orElse(Double.NaN),
                        "× best peer", true));
        sb.append("<h2>Backends</h2>\n<table><tr><th>name</th><th>status</th><th>device or reason</th></tr>\n");
        for (BackendStatus s : r.probe()) {
            sb.append("<tr><td>").append(esc(s.name())).append("</td><td>")
                    .append(s.available() ? "available" : "unavailable").append("</td><td>")
                    .append(esc(s.available() ? s.device() : s.reason())).append("</td></tr>\n");
        }
        sb.append("</table>\n<h2>Table</h2>\n<pre>").append(esc(table)).append("</pre>\n</body></html>\n");
        return sb.toString();
    }

    /**
     * A grouped bar chart: one group per shape, one bar per backend (or peer) in it. Bars whose value is not a
     * number (no peer to compare with) are left out.
     */
    static String barChart(Results r, ToDoubleFunction<Results.Timing> value, String unit, boolean backendsOnly) {
        List<Shape> shapes = new ArrayList<>(new LinkedHashSet<>(r.timings().stream().map(Results.Timing::shape)
                .toList()));
        List<String> whos = new ArrayList<>(new LinkedHashSet<>(r.timings().stream()
                .filter(t -> !backendsOnly || !t.peer()).map(Results.Timing::who).toList()));
        double max = r.timings().stream().filter(t -> !backendsOnly || !t.peer()).mapToDouble(value)
                .filter(Double::isFinite).max().orElse(1);
        if (!(max > 0)) {
            max = 1;
        }
        int plotH = 240, top = 20, left = 60, groupW = Math.max(60, 22 * whos.size() + 20), barW = 18;
        int width = left + groupW * Math.max(1, shapes.size()) + 160;
        int height = top + plotH + 50;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "font-family=\"sans-serif\" font-size=\"11\">%n", width, height));
        for (int g = 0; g <= 4; g++) {
            double v = max * g / 4;
            int y = top + plotH - (int) Math.round(plotH * g / 4.0);
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
                    + "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3g</text>%n", left, width - 150, y, y, left - 4,
                    y + 4, v));
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"12\">%s</text>%n", esc(unit)));
        for (int si = 0; si < shapes.size(); si++) {
            Shape s = shapes.get(si);
            int gx = left + si * groupW + 10;
            for (int wi = 0; wi < whos.size(); wi++) {
                String who = whos.get(wi);
                for (Results.Timing t : r.timings()) {
                    if (!t.shape().equals(s) || !t.who().equals(who)) {
                        continue;
                    }
                    double v = value.applyAsDouble(t);
                    if (!Double.isFinite(v)) {
                        continue;
                    }
                    int h = (int) Math.round(plotH * v / max);
                    sb.append(String.format(Locale.ROOT, "<rect class=\"bar\" data-who=\"%s\" data-shape=\"%s\" "
                                    + "data-value=\"%.6g\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\">"
                                    + "<title>%s %s: %.3g %s</title></rect>%n", esc(who), s, v, gx + wi * 22,
                            top + plotH - h, barW, h, PALETTE[wi % PALETTE.length], esc(who), s, v, esc(unit)));
                }
            }
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                    gx + (22 * whos.size()) / 2, top + plotH + 16, s));
        }
        for (int wi = 0; wi < whos.size(); wi++) {
            int y = top + 14 * wi;
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                            + "<text x=\"%d\" y=\"%d\">%s</text>%n", width - 140, y, PALETTE[wi % PALETTE.length],
                    width - 126, y + 9, esc(whos.get(wi))));
        }
        return sb.append("</svg>\n").toString();
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
