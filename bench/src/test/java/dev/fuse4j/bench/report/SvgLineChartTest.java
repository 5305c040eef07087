package dev.fuse4j.bench.report;

import dev.fuse4j.bench.report.SvgLineChart.Panel;
import dev.fuse4j.bench.report.SvgLineChart.Series;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SvgLineChartTest {
    private static final double[] TRAIN = {2.31, 1.2, 0.8, 0.61, 0.5, 0.44};
    private static final double[] VAL = {2.0, 1.3, 1.05, 1.0, 1.02, 1.1};

    private static Document parse(String svg) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    private static List<Element> elements(Element root, String tag) {
        NodeList nodes = root.getElementsByTagName(tag);
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            out.add((Element) nodes.item(i));
        }
        return out;
    }

    private static List<Element> lines(Element root, int series) {
        return elements(root, "polyline").stream()
                .filter(e -> e.getAttribute("data-series").equals(Integer.toString(series))).toList();
    }

    /** A polyline's points as {x, y} pairs. */
    private static double[][] points(Element polyline) {
        String[] pts = polyline.getAttribute("points").trim().split(" ");
        double[][] xy = new double[pts.length][];
        for (int i = 0; i < pts.length; i++) {
            String[] c = pts[i].split(",");
            xy[i] = new double[] {Double.parseDouble(c[0]), Double.parseDouble(c[1])};
        }
        return xy;
    }

    /**
     * Reads a panel's axes back the way a person would: the y tick labels with their heights, the epoch labels
     * with their x positions.
     */
    private record Axes(List<double[]> yTicks, List<double[]> xTicks) {
        static Axes of(Element panel) {
            List<double[]> y = new ArrayList<>();
            List<double[]> x = new ArrayList<>();
            for (Element t : elements(panel, "text")) {
                String anchor = t.getAttribute("text-anchor");
                if (anchor.equals("end")) {
                    y.add(new double[] {Double.parseDouble(t.getTextContent()),
                            Double.parseDouble(t.getAttribute("y")) - 4});
                } else if (anchor.equals("middle") && t.getTextContent().matches("\\d+")) {
                    x.add(new double[] {Double.parseDouble(t.getTextContent()), Double.parseDouble(t.getAttribute("x"))});
                }
            }
            return new Axes(y, x);
        }

        double valueAt(double py) {
            double[] a = yTicks.get(0);
            double[] b = yTicks.get(yTicks.size() - 1);
            return a[0] + (py - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
        }

        double xOfEpoch(int epoch) {
            return xTicks.stream().filter(t -> t[0] == epoch).findFirst().orElseThrow()[1];
        }

        double[] yRange() {
            return new double[] {yTicks.get(0)[0], yTicks.get(yTicks.size() - 1)[0]};
        }
    }

    @Test
    void pointsSitWhereTheAxesSayTheirValuesAre() throws Exception {
        Document d = parse(SvgLineChart.svg("loss", "cross-entropy", List.of(new Series("train", TRAIN, false),
                new Series("validation", VAL, true))));
        Element root = d.getDocumentElement();
        assertEquals("svg", root.getTagName());
        Axes axes = Axes.of(root);
        double[] range = axes.yRange();
        assertTrue(range[0] <= 0.44 && range[1] >= 2.31, "the y axis covers the data: " + range[0] + ".." + range[1]);
        assertTrue(range[1] - range[0] < 2 * (2.31 - 0.44), "and is not much wider than it");
        assertTrue(axes.yTicks().size() >= 3 && axes.yTicks().size() <= 12, "a readable number of y ticks");
        assertEquals(6, axes.xTicks().size(), "epochs 1 to 6 are all labelled");

        double[][] values = {TRAIN, VAL};
        for (int s = 0; s < 2; s++) {
            List<Element> polylines = lines(root, s);
            assertEquals(1, polylines.size());
            double[][] pts = points(polylines.get(0));
            assertEquals(values[s].length, pts.length);
            for (int e = 0; e < pts.length; e++) {
                assertEquals(axes.xOfEpoch(e + 1), pts[e][0], 0.051, "x of epoch " + (e + 1));
                assertEquals(values[s][e], axes.valueAt(pts[e][1]), 0.01, "series " + s + " epoch " + (e + 1));
            }
        }
    }

    @Test
    void seriesOfDifferentLengthsShareTheEpochAxis() throws Exception {
        Element root = parse(SvgLineChart.svg("t", "loss", List.of(new Series("long", new double[] {5, 4, 3, 2, 1,
                0.5, 0.25, 0.2, 0.1, 0.05, 0.01, 0}, false), new Series("short", new double[] {3, 1}, true))))
                .getDocumentElement();
        Axes axes = Axes.of(root);
        double[][] longPts = points(lines(root, 0).get(0));
        double[][] shortPts = points(lines(root, 1).get(0));
        assertEquals(12, longPts.length);
        assertEquals(2, shortPts.length);
        assertEquals(longPts[1][0], shortPts[1][0], 1e-9, "epoch 2 is one x for both");
        assertEquals(axes.xOfEpoch(12), longPts[11][0], 0.051);
        assertEquals(List.of(1, 2, 4, 6, 8, 10, 12), axes.xTicks().stream().map(t -> (int) t[0]).toList());
        assertEquals(0, axes.valueAt(longPts[11][1]), 0.01);
    }

    @Test
    void nonFiniteValuesBreakTheLineAndStayOffTheAxis() throws Exception {
        double[] v = {Double.NaN, 1, 2, Double.NaN, 3, Double.POSITIVE_INFINITY, 4, 5, Double.NEGATIVE_INFINITY};
        Element root = parse(SvgLineChart.svg("t", "y", List.of(new Series("s", v, false),
                new Series("nothing yet", new double[] {Double.NaN, Double.NaN}, true),
                new Series("empty", new double[0], false)))).getDocumentElement();
        List<Element> runs = lines(root, 0);
        assertEquals(3, runs.size(), "three runs of finite values");
        Axes axes = Axes.of(root);
        int[] firstEpoch = {2, 5, 7};
        double[][] expected = {{1, 2}, {3}, {4, 5}};
        for (int r = 0; r < 3; r++) {
            double[][] pts = points(runs.get(r));
            assertEquals(expected[r].length, pts.length);
            for (int i = 0; i < pts.length; i++) {
                assertEquals(axes.xOfEpoch(firstEpoch[r] + i), pts[i][0], 0.051);
                assertEquals(expected[r][i], axes.valueAt(pts[i][1]), 0.01);
            }
        }
        List<Element> dots = elements(root, "circle");
        assertEquals(1, dots.size(), "the lone 3 at epoch 5 is a dot, as a one-point line would be invisible");
        assertEquals(axes.xOfEpoch(5), Double.parseDouble(dots.get(0).getAttribute("cx")), 0.051);
        assertEquals(3, axes.valueAt(Double.parseDouble(dots.get(0).getAttribute("cy"))), 0.01);
        assertTrue(lines(root, 1).isEmpty() && lines(root, 2).isEmpty());
        assertTrue(axes.yRange()[1] <= 10, "infinity does not stretch the axis: " + axes.yRange()[1]);
        String text = root.getTextContent();
        assertTrue(text.contains("nothing yet") && text.contains("empty"), "every series is in the legend");
        assertFalse(SvgLineChart.svg("t", "y", List.of(new Series("s", v, false))).contains("NaN"));
    }

    @Test
    void textIsEscapedAndSurvivesTheParser() throws Exception {
        String title = "loss <&> \"curves\" 'quoted'";
        String name = "val <b>&amp;</b> \u0001 \uD83D\uDE00 \uD800 ü";
        String svg = SvgLineChart.svg(title, "y < 1 & y > 0", List.of(new Series(name, new double[] {1, 2}, true)));
        assertFalse(svg.contains("<b>") || svg.contains("<&>") || svg.contains("\u0001"), svg);
        Element root = parse(svg).getDocumentElement();
        assertEquals(title, elements(root, "title").get(0).getTextContent());
        String text = root.getTextContent();
        assertTrue(text.contains(title), text);
        assertTrue(text.contains("y < 1 & y > 0"), text);
        assertTrue(text.contains("val <b>&amp;</b> \uFFFD \uD83D\uDE00 \uFFFD ü"),
                "a control character and a lone surrogate become U+FFFD, a real pair stays: " + text);
    }

    @Test
    void eachRunHasAColourAndValidationIsDashed() throws Exception {
        List<Series> series = List.of(
                Series.of("train loss (dropout 0.5)", TRAIN),
                Series.of("validation loss (dropout 0.5)", VAL),
                Series.of("train loss (no dropout)", TRAIN),
                Series.of("validation loss (no dropout)", VAL));
        assertFalse(series.get(0).dashed());
        assertTrue(series.get(1).dashed());
        Element root = parse(SvgLineChart.svg("t", "loss", series)).getDocumentElement();
        String[] stroke = new String[4];
        String[] dash = new String[4];
        for (int s = 0; s < 4; s++) {
            Element line = lines(root, s).get(0);
            stroke[s] = line.getAttribute("stroke");
            dash[s] = line.getAttribute("stroke-dasharray");
        }
        assertEquals(stroke[0], stroke[1], "one run, one colour");
        assertEquals(stroke[2], stroke[3]);
        assertNotEquals(stroke[0], stroke[2], "two runs, two colours");
        assertEquals("", dash[0], "training is solid");
        assertEquals("", dash[2]);
        assertFalse(dash[1].isEmpty() || dash[3].isEmpty(), "validation is dashed");

        // The legend shows each series' own stroke next to its name.
        List<Element> legend = elements(root, "line").stream().filter(l -> l.getAttribute("stroke-width").equals("2"))
                .toList();
        assertEquals(4, legend.size());
        for (int s = 0; s < 4; s++) {
            assertEquals(stroke[s], legend.get(s).getAttribute("stroke"));
            assertEquals(dash[s], legend.get(s).getAttribute("stroke-dasharray"));
        }
    }

    @Test
    void stylesStayDistinctWhateverTheNames() {
        assertEquals(SvgLineChart.runKey("training loss, dropout 0.5"), SvgLineChart.runKey("validation loss, "
                + "dropout 0.5"));
        assertEquals(SvgLineChart.runKey("Train (Adam)"), SvgLineChart.runKey("val (adam)"));
        assertNotEquals(SvgLineChart.runKey("interval loss"), SvgLineChart.runKey("loss"),
                "only whole words mark a role");
        assertFalse(Series.of("interval", new double[0]).dashed());
        assertTrue(Series.of("test accuracy", new double[0]).dashed());

        List<Series> series = new ArrayList<>();
        for (String run : List.of("a", "b", "c")) {
            series.add(new Series("train " + run, TRAIN, false));
            series.add(new Series("train " + run + " again", TRAIN, false));
            series.add(new Series("val " + run, VAL, true));
            series.add(new Series("val " + run, VAL, true));
            series.add(new Series(run, VAL, false));
        }
        String[][] styles = SvgLineChart.styles(series);
        Set<String> seen = new HashSet<>();
        for (String[] s : styles) {
            assertTrue(seen.add(s[0] + " " + s[1]), "colour and dash " + s[0] + " " + s[1] + " used twice");
        }
        assertEquals(styles[0][0], styles[2][0], "train a and val a share a colour");
        assertEquals(styles[0][0], styles[4][0], "a bare run name belongs to that run");
        assertNotEquals(styles[0][0], styles[1][0], "a name with more to it starts a run of its own");
        assertEquals("", styles[0][1]);
        assertFalse(styles[4][1].isEmpty(), "run a's second solid curve gets dashes of its own");
        assertNotEquals(styles[2][1], styles[3][1], "as does its second dashed one");
    }

    @Test
    void epochAndValueTicksAreRound() throws Exception {
        assertEquals(List.of(1), SvgLineChart.epochTicks(1));
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), SvgLineChart.epochTicks(10));
        assertEquals(List.of(1, 5, 10, 15, 20, 25), SvgLineChart.epochTicks(25));
        assertEquals(List.of(1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100), SvgLineChart.epochTicks(100));
        assertEquals(List.of(1, 200, 400, 600, 800, 1000, 1200), SvgLineChart.epochTicks(1234));

        double[] t = SvgLineChart.niceTicks(0.23, 2.31);
        assertTrue(t[0] <= 0.23 && t[t.length - 1] >= 2.31);
        assertEquals(0.5, t[1] - t[0], 1e-12);
        double[] flat = SvgLineChart.niceTicks(1, 1);
        assertTrue(flat[0] < 1 && flat[flat.length - 1] > 1, "a flat series still gets a range");
        double[] bigFlat = SvgLineChart.niceTicks(1e6, 1e6);
        assertTrue(bigFlat[0] < 1e6 && bigFlat[bigFlat.length - 1] > 1e6);

        Element root = parse(SvgLineChart.svg("t", "y", List.of(new Series("s", new double[] {-0.3, 0.1, 0.3},
                false)))).getDocumentElement();
        List<String> labels = elements(root, "text").stream().filter(e -> e.getAttribute("text-anchor").equals("end"))
                .map(Element::getTextContent).toList();
        assertEquals(List.of("-0.3", "-0.2", "-0.1", "0.0", "0.1", "0.2", "0.3"), labels,
                "one decimal for steps of 0.1, and zero is not -0.0");
        double[] huge = SvgLineChart.niceTicks(-1e308, 1e308);
        assertTrue(huge.length >= 2, "values at the ends of the double range do not break the ticks");
    }

    @Test
    void aSingleEpochIsADotInTheMiddle() throws Exception {
        Element root = parse(SvgLineChart.svg("t", "loss", List.of(new Series("s", new double[] {0.7}, false))))
                .getDocumentElement();
        assertEquals(1, points(lines(root, 0).get(0)).length);
        Element dot = elements(root, "circle").get(0);
        Axes axes = Axes.of(root);
        assertEquals(List.of(1), axes.xTicks().stream().map(x -> (int) x[0]).toList());
        assertEquals(0.7, axes.valueAt(Double.parseDouble(dot.getAttribute("cy"))), 0.01);
    }

    @Test
    void lossAndAccuracyPanelsSitSideBySide() throws Exception {
        double[] acc = {0.6, 0.7, 0.8, 0.85, 0.87, 0.88};
        double[] valAcc = {0.62, 0.71, 0.78, 0.8, 0.81, 0.8};
        String svg = SvgLineChart.svg("dropout 0.5", List.of(
                new Panel("loss", List.of(Series.of("train loss", TRAIN), Series.of("validation loss", VAL))),
                new Panel("accuracy", List.of(Series.of("train accuracy", acc), Series.of("validation accuracy",
                        valAcc)))));
        Element root = parse(svg).getDocumentElement();
        List<Element> panels = elements(root, "g");
        assertEquals(2, panels.size());
        double rightOfFirst = Double.NEGATIVE_INFINITY;
        for (Element e : elements(panels.get(0), "rect")) {
            rightOfFirst = Math.max(rightOfFirst, Double.parseDouble(e.getAttribute("x"))
                    + Double.parseDouble(e.getAttribute("width")));
        }
        Axes second = Axes.of(panels.get(1));
        assertTrue(second.xOfEpoch(1) > rightOfFirst, "the accuracy panel starts right of the loss panel");
        assertTrue(Double.parseDouble(root.getAttribute("width")) > second.xOfEpoch(6));
        double[] range = second.yRange();
        assertTrue(range[0] <= 0.6 && range[1] >= 0.88 && range[1] <= 1.0, range[0] + ".." + range[1]);
        double[][] pts = points(lines(panels.get(1), 1).get(0));
        for (int e = 0; e < 6; e++) {
            assertEquals(valAcc[e], second.valueAt(pts[e][1]), 0.002);
        }
        assertEquals(lines(panels.get(0), 0).get(0).getAttribute("stroke"),
                lines(panels.get(1), 0).get(0).getAttribute("stroke"), "a run keeps its colour across panels");
        String text = root.getTextContent();
        assertTrue(text.contains("loss") && text.contains("accuracy") && text.contains("validation accuracy"));
        assertThrows(IllegalArgumentException.class, () -> SvgLineChart.svg("t", List.of()));
    }

    @Test
    void writeSavesTheSameSvgAsUtf8(@TempDir Path dir) throws Exception {
        List<Series> series = List.of(new Series("Verlust – ü", TRAIN, false));
        Path one = dir.resolve("one.svg");
        SvgLineChart.write(one, "Titel", "Verlust", series);
        assertEquals(SvgLineChart.svg("Titel", "Verlust", series), Files.readString(one, StandardCharsets.UTF_8));
        Path two = dir.resolve("two.svg");
        List<Panel> panels = List.of(new Panel("a", series), new Panel("b", series));
        SvgLineChart.write(two, "Titel", panels);
        assertArrayEquals(SvgLineChart.svg("Titel", panels).getBytes(StandardCharsets.UTF_8), Files.readAllBytes(two));
        assertTrue(parse(Files.readString(two)).getDocumentElement().getTextContent().contains("Verlust – ü"));
    }

    @Test
    void seriesCopyTheirValues() {
        double[] v = {1, 2};
        Series s = new Series("s", v, false);
        v[0] = 9;
        assertEquals(1, s.values()[0]);
        s.values()[1] = 9;
        assertEquals(2, s.values()[1]);
    }
}
