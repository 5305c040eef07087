package dev.fuse4j.bench.train;

import dev.fuse4j.bench.report.SvgLineChart;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The train command's picture: loss (left) and accuracy (right) per epoch, training solid and validation dashed,
 * one colour per run, so the gap between the curves with and without dropout is visible at a glance; with more
 * than two runs (variants compared), the validation curves alone, solid. Both
 * curves are measured in evaluation mode after each epoch, so dropout's noise does not widen the gap.
 */
final class TrainingPlot {
    private TrainingPlot() {
    }

    static void write(Path file, List<Epoch> history, String title) throws IOException {
        List<SvgLineChart.Series> loss = new ArrayList<>();
        List<SvgLineChart.Series> accuracy = new ArrayList<>();
        List<String> runs = history.stream().map(Epoch::run).distinct().toList();
        // Beyond two runs, four curves each would hide the comparison: the validation curves alone tell it.
        boolean training = runs.size() <= 2;
        for (String run : runs) {
            List<Epoch> rows = history.stream().filter(e -> e.run().equals(run)).toList();
            if (training) {
                loss.add(series("training loss, " + run, rows, Epoch::trainLoss, false));
            }
            loss.add(series("validation loss, " + run, rows, Epoch::valLoss, training));
            if (training) {
                accuracy.add(series("training accuracy, " + run, rows, e -> 100 * e.trainAccuracy(), false));
            }
            accuracy.add(series("validation accuracy, " + run, rows, e -> 100 * e.valAccuracy(), training));
        }
        SvgLineChart.write(file, title, List.of(new SvgLineChart.Panel("cross-entropy loss", loss),
                new SvgLineChart.Panel("accuracy (%)", accuracy)));
    }

    /** Values placed by epoch number (a missing epoch is a gap), as the plot puts value {@code i} at epoch i + 1. */
    private static SvgLineChart.Series series(String name, List<Epoch> rows,
                                               ToDoubleFunction<Epoch> value, boolean dashed) {
        int last = rows.stream().mapToInt(Epoch::epoch).max().orElse(0);
        double[] v = new double[last];
        java.util.Arrays.fill(v, Double.NaN);
        for (Epoch e : rows) {
            v[e.epoch() - 1] = value.applyAsDouble(e);
        }
        return new SvgLineChart.Series(name, v, dashed);
    }
}
