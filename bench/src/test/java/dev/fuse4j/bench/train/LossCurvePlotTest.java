package dev.fuse4j.bench.train;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LossCurvePlotTest {

    private static Document parse(String svg) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void eachSeriesIsALineThroughItsPointsWithItsNameInTheLegend() throws Exception {
        String svg = LossCurvePlot.svg("loss <&> curves", "loss", List.of(
                new LossCurvePlot.Series("train", new double[] {2.0, 1.0, 0.5}, false),
                new LossCurvePlot.Series("val \"dashed\"", new double[] {2.1, 1.4, 1.6, 1.9}, true)));
        Document d = parse(svg);
        NodeList lines = d.getElementsByTagName("polyline");
        assertEquals(2, lines.getLength());
        Element train = (Element) lines.item(0);
        Element val = (Element) lines.item(1);
        assertEquals(3, train.getAttribute("points").split(" ").length);
        assertEquals(4, val.getAttribute("points").split(" ").length);
        assertTrue(val.hasAttribute("stroke-dasharray") && !train.hasAttribute("stroke-dasharray"));
        assertTrue(d.getDocumentElement().getTextContent().contains("loss <&> curves"));
        assertTrue(d.getDocumentElement().getTextContent().contains("val \"dashed\""));

        // Lower loss is drawn higher up the page never: y grows downwards, so 0.5 sits below 2.0's y value.
        String[] pts = train.getAttribute("points").split(" ");
        double yFirst = Double.parseDouble(pts[0].split(",")[1]);
        double yLast = Double.parseDouble(pts[2].split(",")[1]);
        assertTrue(yLast > yFirst, "loss 0.5 must be drawn lower than loss 2.0");
        double xFirst = Double.parseDouble(pts[0].split(",")[0]);
        double xLast = Double.parseDouble(pts[2].split(",")[0]);
        assertTrue(xLast > xFirst);
    }

    @Test
    void aNonFiniteValueBreaksTheLine() throws Exception {
        Document d = parse(LossCurvePlot.svg("t", "y", List.of(
                new LossCurvePlot.Series("s", new double[] {1, 2, Double.NaN, 3, Double.POSITIVE_INFINITY, 4}, false))));
        NodeList lines = d.getElementsByTagName("polyline");
        assertEquals(3, lines.getLength(), "three runs of finite values");
        assertEquals(2, ((Element) lines.item(0)).getAttribute("points").split(" ").length);
    }

    @Test
    void ticksCoverTheDataWithRoundSteps() {
        double[] t = LossCurvePlot.niceTicks(0.23, 2.31);
        assertTrue(t[0] <= 0.23 && t[t.length - 1] >= 2.31);
        assertEquals(0.5, t[1] - t[0], 1e-12);
        double[] flat = LossCurvePlot.niceTicks(1, 1);
        assertTrue(flat[0] < 1 && flat[flat.length - 1] > 1, "a flat series still gets a range");
    }
}
