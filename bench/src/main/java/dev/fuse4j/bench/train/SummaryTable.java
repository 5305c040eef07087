package dev.fuse4j.bench.train;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** The table after training: per run, the last epoch's losses, the best validation accuracy, and the loss gap. */
final class SummaryTable {
    private SummaryTable() {
    }

    static void print(PrintStream out, List<Epoch> history, int trainEvalExamples) {
        // The run column as wide as its longest name ("dropout 0.2 input 0.1"), at least 14.
        int width = Math.max(14, history.stream().mapToInt(e -> e.run().length()).max().orElse(0));
        out.printf(Locale.ROOT, "%-" + width + "s %6s %11s %11s %9s %14s %12s%n", "run", "epochs", "train loss",
                "val loss", "val acc", "best val acc", "loss gap");
        for (String run : history.stream().map(Epoch::run).distinct().toList()) {
            List<Epoch> rs = history.stream().filter(e -> e.run().equals(run)).toList();
            Epoch last = rs.get(rs.size() - 1);
            Epoch best = rs.stream().max((a, b) -> Double.compare(a.valAccuracy(), b.valAccuracy())).orElseThrow();
            out.printf(Locale.ROOT, "%-" + width + "s %6d %11.4f %11.4f %8.2f%% %8.2f%% (%2d) %+12.4f%n", run, last.epoch(),
                    last.trainLoss(), last.valLoss(), 100 * last.valAccuracy(), 100 * best.valAccuracy(),
                    best.epoch(), last.valLoss() - last.trainLoss());
        }
        out.println("train loss: evaluation mode on the first " + trainEvalExamples + " training examples; "
                + "loss gap = val loss - train loss at the last epoch: how far the model overfits");
    }
}
