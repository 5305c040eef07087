package dev.fuse4j.bench.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.DoubleUnaryOperator;
import java.util.regex.Pattern;

/**
 * A self-contained SVG line chart of per-epoch series: epochs on x (from 1), the values on y, axis ticks and
 * labels, a title and a legend. One panel, or several side by side (loss and accuracy, say).
 *
 * <p>Styles: series whose names differ only in the words "train", "training", "validation", "val" or "test"
 * (say "train loss (dropout 0.5)" and "validation loss (dropout 0.5)") are one run and share a colour, runs
 * get distinct colours in the order they first appear in a panel, so listing runs in the same order in each
 * panel keeps a run's colour, and within a run the {@link Series#dashed()} flag tells the curves apart
 * (training solid, validation dashed by convention; {@link Series#of} infers it from the name). A non-finite
 * value breaks its line; a point with no finite neighbour is drawn as a dot.
 */
public final class SvgLineChart {
    private static final int LEFT = 70;
    private static final int PLOT_W = 460;
    private static final int PLOT_H = 340;
    private static final int TOP = 44;
    private static final int BOTTOM = 50;
    private static final int LEGEND_ROW = 20;
    private static final int GAP = 20;
    // The first ten of these are tab10 in an order where neighbours contrast; beyond that colours repeat.
    private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
            "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    // A run with two solid (or two dashed) curves still needs them told apart: each further one gets the next.
    private static final String[] SOLID = {"", "12 3 2 3", "2 2"};
    private static final String[] DASHED = {"6 4", "2 4", "10 3 2 3 2 3"};
    private static final Pattern ROLE_WORDS = Pattern.compile("(?i)\\b(training|train|validation|val|test)\\b");
    private static final Pattern HELD_OUT = Pattern.compile("(?i)\\b(validation|val|test|eval)\\b");

    private SvgLineChart() {
    }

    /** One curve: {@code values[i]} belongs to epoch {@code i + 1}; the array is copied. */
    public record Series(String name, double[] values, boolean dashed) {
        public Series {
            Objects.requireNonNull(name, "name");
            values = values.clone();
        }

        /** Dashed when the name has the word "validation", "val", "test" or "eval" in it, solid otherwise. */
        public static Series of(String name, double[] values) {
            return new Series(name, values, HELD_OUT.matcher(name).find());
        }

        @Override
        public double[] values() {
            return values.clone();
        }
    }

    /** One chart of a multi-panel picture: its y axis label and its curves. */
    public record Panel(String yLabel, List<Series> series) {
        public Panel {
            Objects.requireNonNull(yLabel, "yLabel");
            series = List.copyOf(series);
        }
    }

    public static void write(Path file, String title, String yLabel, List<Series> series) throws IOException {
        Files.writeString(file, svg(title, yLabel, series), StandardCharsets.UTF_8);
    }

    public static void write(Path file, String title, List<Panel> panels) throws IOException {
        Files.writeString(file, svg(title, panels), StandardCharsets.UTF_8);
    }

    /** One chart of {@code series} under {@code title}, with {@code yLabel} on the y axis. */
    public static String svg(String title, String yLabel, List<Series> series) {
        return svg(title, List.of(new Panel(yLabel, series)));
    }

    /** The panels side by side, each with its own axes and legend, under one title. */
    public static String svg(String title, List<Panel> panels) {
        if (panels.isEmpty()) {
            throw new IllegalArgumentException("a picture needs at least one panel");
        }
        int[] widths = new int[panels.size()];
        int width = 0;
        int height = TOP + PLOT_H + BOTTOM;
        for (int p = 0; p < panels.size(); p++) {
            widths[p] = LEFT + PLOT_W + legendWidth(panels.get(p).series);
            width += widths[p] + (p > 0 ? GAP : 0);
            height = Math.max(height, TOP + 10 + LEGEND_ROW * panels.get(p).series.size() + BOTTOM);
        }
        StringBuilder sb = new StringBuilder();
        sb.append(fmt("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"sans-serif\" font-size=\"12\">%n", width, height, width, height));
        sb.append("<title>").append(Xml.escape(title)).append("</title>\n");
        sb.append(fmt("<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", width, height));
        sb.append(fmt("<text x=\"%d\" y=\"24\" font-size=\"14\" font-weight=\"bold\">%s</text>%n", LEFT,
                Xml.escape(title)));
        int x0 = 0;
        for (int p = 0; p < panels.size(); p++) {
            panel(sb, p, x0, panels.get(p));
            x0 += widths[p] + GAP;
        }
        return sb.append("</svg>\n").toString();
    }

    private static void panel(StringBuilder sb, int index, int x0, Panel panel) {
        List<Series> series = panel.series;
        int epochs = 1;
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            epochs = Math.max(epochs, s.values.length);
            for (double v : s.values) {
                if (Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (lo > hi) {
            lo = 0;
            hi = 1;
        }
        double[] ticks = niceTicks(lo, hi);
        double y0 = ticks[0];
        double y1 = ticks[ticks.length - 1];
        int left = x0 + LEFT;
        int bottom = TOP + PLOT_H;
        int lastEpoch = epochs;
        DoubleUnaryOperator px = e -> left + (lastEpoch == 1 ? PLOT_W / 2.0
                : (e - 1) * PLOT_W / (lastEpoch - 1));
        DoubleUnaryOperator py = v -> bottom - (v - y0) * PLOT_H / (y1 - y0);

        sb.append(fmt("<g data-panel=\"%d\">%n", index));
        for (double t : ticks) {
            double y = py.applyAsDouble(t);
            sb.append(fmt("<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", left, left + PLOT_W, y, y,
                    left - 6, y + 4, tickLabel(t, ticks)));
        }
        for (int e : epochTicks(epochs)) {
            double x = px.applyAsDouble(e);
            sb.append(fmt("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#333\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>%n", x, x, bottom, bottom + 5, x,
                    bottom + 18, e));
        }
        sb.append(fmt("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>%n", left,
                TOP, PLOT_W, PLOT_H));
        sb.append(fmt("<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">epoch</text>%n", left + PLOT_W / 2.0,
                bottom + 36));
        sb.append(fmt("<text transform=\"translate(%d %.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>%n",
                x0 + 16, TOP + PLOT_H / 2.0, Xml.escape(panel.yLabel)));

        String[][] styles = styles(series);
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            String colour = styles[i][0];
            String dash = styles[i][1].isEmpty() ? "" : " stroke-dasharray=\"" + styles[i][1] + "\"";
            int runStart = 0;
            StringBuilder points = new StringBuilder();
            for (int e = 0; e <= s.values.length; e++) {
                if (e < s.values.length && Double.isFinite(s.values[e])) {
                    if (points.isEmpty()) {
                        runStart = e;
                    } else {
                        points.append(' ');
                    }
                    points.append(fmt("%.1f,%.1f", px.applyAsDouble(e + 1), py.applyAsDouble(s.values[e])));
                } else if (!points.isEmpty()) {
                    sb.append(fmt("<polyline data-series=\"%d\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s "
                            + "points=\"%s\"/>%n", i, colour, dash, points));
                    if (e - runStart == 1) {
                        // A one-point polyline draws nothing, so a lone value (or a one-epoch run) gets a dot.
                        sb.append(fmt("<circle data-series=\"%d\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>%n", i,
                                px.applyAsDouble(runStart + 1), py.applyAsDouble(s.values[runStart]), colour));
                    }
                    points.setLength(0);
                }
            }
            int lx = left + PLOT_W + 15;
            int ly = TOP + 10 + LEGEND_ROW * i;
            sb.append(fmt("<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>"
                    + "<text x=\"%d\" y=\"%d\">%s</text>%n", lx, lx + 28, ly, ly, colour, dash, lx + 34, ly + 4,
                    Xml.escape(s.name)));
        }
        sb.append("</g>\n");
    }

    /** Colour and dash pattern of each series, by the rules in the class comment. */
    static String[][] styles(List<Series> series) {
        Map<String, Integer> runs = new LinkedHashMap<>();
        Map<String, Integer> seen = new LinkedHashMap<>();
        String[][] out = new String[series.size()][];
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            String run = runKey(s.name);
            int colour = runs.computeIfAbsent(run, k -> runs.size());
            int nth = seen.merge(run + (s.dashed ? "\u0000dashed" : "\u0000solid"), 1, Integer::sum) - 1;
            String[] patterns = s.dashed ? DASHED : SOLID;
            out[i] = new String[] {COLOURS[colour % COLOURS.length], patterns[nth % patterns.length]};
        }
        return out;
    }

    /** The name without its train/validation words: what a run's curves have in common. */
    static String runKey(String name) {
        return ROLE_WORDS.matcher(name).replaceAll(" ").replaceAll("[\\s,;:()\\[\\]-]+", " ").trim()
                .toLowerCase(Locale.ROOT);
    }

    /** Room for the legend's sample line and its longest name, estimated from the character count. */
    private static int legendWidth(List<Series> series) {
        int chars = 0;
        for (Series s : series) {
            chars = Math.max(chars, s.name.length());
        }
        return 15 + 34 + (int) Math.ceil(chars * 6.8) + 10;
    }

    /** Epoch 1 and multiples of a 1, 2 or 5 times a power of ten step, at most about ten of them. */
    static List<Integer> epochTicks(int epochs) {
        long step = 1;
        search:
        for (long mag = 1; ; mag *= 10) {
            for (long m : new long[] {1, 2, 5}) {
                step = m * mag;
                if (epochs / step <= 10) {
                    break search;
                }
            }
        }
        List<Integer> ticks = new ArrayList<>();
        ticks.add(1);
        for (long e = step; e <= epochs; e += step) {
            if (e > 1) {
                ticks.add((int) e);
            }
        }
        return ticks;
    }

    /** About five round tick values (1, 2 or 5 times a power of ten apart) that cover [lo, hi]. */
    static double[] niceTicks(double lo, double hi) {
        if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
            double pad = Math.max(Math.abs(lo) * 0.1, 0.1);
            lo -= pad;
            hi += pad;
        }
        double raw = (hi - lo) / 5;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3 ? 2 * mag : raw / mag < 7 ? 5 * mag : 10 * mag;
        double first = Math.floor(lo / step);
        double last = Math.ceil(hi / step);
        if (!Double.isFinite(step) || step == 0 || !Double.isFinite(first * step) || !Double.isFinite(last * step)) {
            // Values near the ends of the double range: round ticks would overflow, so the ends will do.
            return new double[] {lo, hi};
        }
        int n = (int) (last - first) + 1;
        double[] t = new double[n];
        for (int i = 0; i < n; i++) {
            // Multiplying whole multiples, rather than adding step n times, keeps 0 exact and the error small.
            t[i] = (first + i) * step + 0.0;
        }
        return t;
    }

    private static String tickLabel(double v, double[] ticks) {
        double step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
        int decimals = Math.min(15, Math.max(0, (int) Math.ceil(-Math.log10(step) - 1e-9)));
        String s = String.format(Locale.ROOT, "%." + decimals + "f", v);
        return s.matches("-0(\\.0*)?") ? s.substring(1) : s;
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
