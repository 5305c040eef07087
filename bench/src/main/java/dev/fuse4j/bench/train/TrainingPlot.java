package dev.fuse4j.bench.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The train command's picture: loss (left) and accuracy (right) per epoch, training solid and validation dashed,
 * one colour per run, so the gap between the curves with and without dropout is visible at a glance.
 */
final class TrainingPlot {
    private TrainingPlot() {
    }

    static void write(Path file, List<TrainCommand.Epoch> history, String title) throws IOException {
        List<LossCurvePlot.Series> loss = new ArrayList<>();
        List<LossCurvePlot.Series> accuracy = new ArrayList<>();
        for (String run : history.stream().map(TrainCommand.Epoch::run).distinct().toList()) {
            List<TrainCommand.Epoch> rows = history.stream().filter(e -> e.run().equals(run)).toList();
            loss.add(series("training loss, " + run, rows, TrainCommand.Epoch::trainLoss, false));
            loss.add(series("validation loss, " + run, rows, TrainCommand.Epoch::valLoss, true));
            accuracy.add(series("training accuracy, " + run, rows, e -> 100 * e.trainAccuracy(), false));
            accuracy.add(series("validation accuracy, " + run, rows, e -> 100 * e.valAccuracy(), true));
        }
        LossCurvePlot.write(file, title, List.of(new LossCurvePlot.Panel("cross-entropy loss", loss),
                new LossCurvePlot.Panel("accuracy (%)", accuracy)));
    }

    private static LossCurvePlot.Series series(String name, List<TrainCommand.Epoch> rows,
                                               ToDoubleFunction<TrainCommand.Epoch> value, boolean dashed) {
        return new LossCurvePlot.Series(name, rows.stream().mapToDouble(value).toArray(), dashed);
    }
}
