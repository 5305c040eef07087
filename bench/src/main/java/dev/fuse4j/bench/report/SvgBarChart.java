package dev.fuse4j.bench.report;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A grouped bar chart as inline SVG: one group per shape, one bar per series (backend or peer) in it, bar heights
 * proportional to the values on a linear axis from zero, the value printed above each bar so the small ones stay
 * readable. Nothing external: the report must open from a file on a machine with no network.
 */
public final class SvgBarChart {
    /** Values the chart shows: {@code value(series, group)}, NaN where there is no bar. */
    public interface Values {
        double value(int series, int group);
    }

    /** Height of the plot area in pixels: a bar at the axis's top value is this tall. */
    public static final int PLOT_HEIGHT = 260;
    private static final int TOP = 28;
    private static final int LEFT = 64;
    private static final int BAR = 22;
    private static final int GAP = 4;
    private static final int LEGEND = 190;
    private static final int BOTTOM = 40;
    /** Width of one character of the 11 px sans-serif labels, generously: digits are about 6.1 px. */
    private static final double CHAR_WIDTH = 6.8;

    private SvgBarChart() {
    }

    /**
     * @param groups    the group labels along the x axis (shapes)
     * @param series    the bar labels in each group (backends, peers), in legend order
     * @param colours   a colour per series name
     * @param unit      the axis label
     * @param reference a value to draw a dashed line at (1 for speed-ups), or NaN for none
     */
    public static String render(List<String> groups, List<String> series, Map<String, String> colours, Values values,
                         String unit, double reference) {
        double max = Double.isFinite(reference) ? reference : 0;
        for (int s = 0; s < series.size(); s++) {
            for (int g = 0; g < groups.size(); g++) {
                double v = values.value(s, g);
                if (Double.isFinite(v)) {
                    max = Math.max(max, v);
                }
            }
        }
        double axisMax = niceCeiling(max);
        int longestLabel = groups.stream().mapToInt(String::length).max().orElse(0);
        // Wide enough for its bars and for its label, so neighbouring shape labels never run into each other.
        int groupWidth = Math.max(series.size() * (BAR + GAP) + 4 * GAP, (int) Math.ceil(longestLabel * CHAR_WIDTH)
                + 4 * GAP);
        int width = LEFT + groupWidth * Math.max(1, groups.size()) + LEGEND;
        int plotRight = width - LEGEND + 10;
        int height = TOP + PLOT_HEIGHT + BOTTOM;
        int base = TOP + PLOT_HEIGHT;
        StringBuilder sb = new StringBuilder();
        sb.append(fmt("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">%n", width, height,
                width, height));
        sb.append(fmt("<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>%n", LEFT, TOP - 12, esc(unit)));
        for (int i = 0; i <= 5; i++) {
            double v = axisMax * i / 5;
            double y = base - PLOT_HEIGHT * i / 5.0;
            sb.append(fmt("<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
                            + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#444\">%s</text>%n", LEFT,
                    plotRight, y, y, i == 0 ? "#888" : "#e4e4e4", LEFT - 6, y + 4, Numbers.plain(v)));
        }
        for (int g = 0; g < groups.size(); g++) {
            int gx = LEFT + g * groupWidth + 2 * GAP;
            int drawn = 0;
            for (int s = 0; s < series.size(); s++) {
                double v = values.value(s, g);
                if (!Double.isFinite(v)) {
                    continue;
                }
                double h = PLOT_HEIGHT * Math.max(0, v) / axisMax;
                int x = gx + s * (BAR + GAP);
                String name = series.get(s);
                sb.append(fmt("<rect class=\"bar\" data-series=\"%s\" data-group=\"%s\" data-value=\"%s\" x=\"%d\" "
                                + "y=\"%.2f\" width=\"%d\" height=\"%.2f\" fill=\"%s\"><title>%s at %s: %s %s</title>"
                                + "</rect>%n", esc(name), esc(groups.get(g)), Json.number(v), x, base - h, BAR, h,
                        colours.getOrDefault(name, "#888"), esc(name), esc(groups.get(g)), Numbers.fixed(v),
                        esc(unit)));
                sb.append(fmt("<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"9\" fill=\"#222\">%s"
                        + "</text>%n", x + BAR / 2, base - h - 3, Numbers.fixed(v)));
                drawn++;
            }
            int labelX = LEFT + g * groupWidth + groupWidth / 2;
            sb.append(fmt("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", labelX, base + 16,
                    esc(groups.get(g))));
            if (drawn == 0) {
                sb.append(fmt("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#888\">no data</text>%n",
                        labelX, base - 8));
            }
        }
        if (Double.isFinite(reference)) {
            double y = base - PLOT_HEIGHT * reference / axisMax;
            sb.append(fmt("<line class=\"reference\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#c00\" "
                    + "stroke-dasharray=\"5,4\"/><text x=\"%d\" y=\"%.1f\" fill=\"#c00\">%s</text>%n", LEFT, plotRight,
                    y, y, plotRight + 2, y + 4, Numbers.plain(reference) + "\u00d7"));
        }
        for (int s = 0; s < series.size(); s++) {
            int y = TOP + 18 * s;
            int x = width - LEGEND + 40;
            sb.append(fmt("<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s"
                    + "</text>%n", x, y, colours.getOrDefault(series.get(s), "#888"), x + 18, y + 10,
                    esc(series.get(s))));
        }
        return sb.append("</svg>\n").toString();
    }

    /** The smallest 1, 2 or 5 times a power of ten at or above {@code v}: round axis labels. */
    static double niceCeiling(double v) {
        if (!(v > 0)) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v * (1 - 1e-12)) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static String esc(String s) {
        return Xml.escape(s);
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
