package dev.fuse4j.bench.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A self-contained SVG line chart of per-epoch curves: epochs on x (from 1), the values on y, a legend, and
 * solid or dashed strokes (training solid, validation dashed). A non-finite value breaks its line.
 */
public final class LossCurvePlot {
    private static final int WIDTH = 760;
    private static final int HEIGHT = 440;
    private static final int LEFT = 70;
    private static final int RIGHT = 230;
    private static final int TOP = 40;
    private static final int BOTTOM = 50;
    private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

    private LossCurvePlot() {
    }

    /** One curve: {@code values[i]} belongs to epoch {@code i + 1}. */
    public record Series(String name, double[] values, boolean dashed) {
    }

    public static void write(Path file, String title, String yLabel, List<Series> series) throws IOException {
        Files.writeString(file, svg(title, yLabel, series), StandardCharsets.UTF_8);
    }

    public static String svg(String title, String yLabel, List<Series> series) {
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
        int plotW = WIDTH - LEFT - RIGHT;
        int plotH = HEIGHT - TOP - BOTTOM;
        int lastEpoch = epochs;
        java.util.function.DoubleUnaryOperator px = e -> LEFT + (lastEpoch == 1 ? plotW / 2.0
                : (e - 1) * plotW / (lastEpoch - 1));
        java.util.function.DoubleUnaryOperator py = v -> TOP + plotH - (v - y0) * plotH / (y1 - y0);

        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT));
        sb.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, HEIGHT));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"14\" font-weight=\"bold\">%s</text>%n",
                LEFT, escape(title)));
        for (double t : ticks) {
            double y = py.applyAsDouble(t);
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", LEFT, LEFT + plotW, y, y, LEFT - 6,
                    y + 4, label(t, ticks)));
        }
        int step = Math.max(1, (int) Math.ceil(epochs / 10.0));
        for (int e = 1; e <= epochs; e += step) {
            double x = px.applyAsDouble(e);
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#333\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>%n", x, x, TOP + plotH, TOP + plotH + 5,
                    x, TOP + plotH + 18, e));
        }
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                + "stroke=\"#333\"/>%n", LEFT, TOP, plotW, plotH));
        sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">epoch</text>%n",
                LEFT + plotW / 2.0, HEIGHT - 12));
        sb.append(String.format(Locale.ROOT, "<text transform=\"translate(16 %.1f) rotate(-90)\" "
                + "text-anchor=\"middle\">%s</text>%n", TOP + plotH / 2.0, escape(yLabel)));

        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            // Train and validation of one run share a colour: series come in pairs.
            String colour = COLOURS[(i / 2) % COLOURS.length];
            String dash = s.dashed ? " stroke-dasharray=\"6 4\"" : "";
            StringBuilder points = new StringBuilder();
            for (int e = 0; e <= s.values.length; e++) {
                boolean ok = e < s.values.length && Double.isFinite(s.values[e]);
                if (ok) {
                    points.append(String.format(Locale.ROOT, "%.1f,%.1f ", px.applyAsDouble(e + 1),
                            py.applyAsDouble(s.values[e])));
                } else if (!points.isEmpty()) {
                    sb.append(String.format(Locale.ROOT, "<polyline data-series=\"%d\" fill=\"none\" stroke=\"%s\" "
                            + "stroke-width=\"2\"%s points=\"%s\"/>%n", i, colour, dash, points.toString().trim()));
                    points.setLength(0);
                }
            }
            int ly = TOP + 10 + 20 * i;
            int lx = LEFT + plotW + 15;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" "
                    + "stroke-width=\"2\"%s/><text x=\"%d\" y=\"%d\">%s</text>%n", lx, lx + 28, ly, ly, colour, dash,
                    lx + 34, ly + 4, escape(s.name)));
        }
        return sb.append("</svg>\n").toString();
    }

    /** About five round tick values (1, 2 or 5 times a power of ten apart) that cover [lo, hi]. */
    static double[] niceTicks(double lo, double hi) {
        if (hi - lo < 1e-12) {
            double pad = Math.max(Math.abs(lo) * 0.1, 0.1);
            lo -= pad;
            hi += pad;
        }
        double raw = (hi - lo) / 5;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3 ? 2 * mag : raw / mag < 7 ? 5 * mag : 10 * mag;
        double first = Math.floor(lo / step) * step;
        double last = Math.ceil(hi / step) * step;
        int n = (int) Math.round((last - first) / step) + 1;
        double[] t = new double[n];
        for (int i = 0; i < n; i++) {
            t[i] = first + i * step;
        }
        return t;
    }

    private static String label(double v, double[] ticks) {
        double step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
        int decimals = Math.max(0, (int) Math.ceil(-Math.log10(step) - 1e-9));
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
