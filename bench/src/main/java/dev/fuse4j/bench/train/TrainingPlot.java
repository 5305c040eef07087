package dev.fuse4j.bench.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The train command's picture: training (solid) and validation (dashed) loss per epoch for each run. */
final class TrainingPlot {
    private TrainingPlot() {
    }

    static void write(Path file, List<TrainCommand.Epoch> history, String title) throws IOException {
        List<LossCurvePlot.Series> series = new ArrayList<>();
        for (String run : history.stream().map(TrainCommand.Epoch::run).distinct().toList()) {
            List<TrainCommand.Epoch> rows = history.stream().filter(e -> e.run().equals(run)).toList();
            series.add(new LossCurvePlot.Series("training loss, " + run,
                    rows.stream().mapToDouble(TrainCommand.Epoch::trainLoss).toArray(), false));
            series.add(new LossCurvePlot.Series("validation loss, " + run,
                    rows.stream().mapToDouble(TrainCommand.Epoch::valLoss).toArray(), true));
        }
        LossCurvePlot.write(file, title, "cross-entropy loss", series);
    }
}
