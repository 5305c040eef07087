package dev.fuse4j.bench.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The per-epoch figures of a training command as CSV, read back when a run resumes from its checkpoint. */
final class HistoryCsv {
    static final String HEADER = "run,epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds";

    private HistoryCsv() {
    }

    static void write(Path file, List<TrainCommand.Epoch> rows) throws IOException {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (TrainCommand.Epoch e : rows) {
            sb.append(String.format(Locale.ROOT, "%s,%d,%.6f,%.6f,%.6f,%.6f,%.3f%n", e.run(), e.epoch(),
                    e.trainLoss(), e.trainAccuracy(), e.valLoss(), e.valAccuracy(), e.seconds()));
        }
        Files.writeString(file, sb, StandardCharsets.UTF_8);
    }

    /** The rows of {@code run} for epochs 1..{@code upTo}; none when the file is missing. */
    static List<TrainCommand.Epoch> read(Path file, String run, int upTo) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        List<TrainCommand.Epoch> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",");
            if (f.length != 7) {
                throw new IOException(file + " line " + (i + 1) + ": expected 7 fields (" + HEADER + ") but found "
                        + f.length + ": " + lines.get(i));
            }
            try {
                int epoch = Integer.parseInt(f[1]);
                if (f[0].equals(run) && epoch <= upTo) {
                    rows.add(new TrainCommand.Epoch(f[0], epoch, Double.parseDouble(f[2]), Double.parseDouble(f[3]),
                            Double.parseDouble(f[4]), Double.parseDouble(f[5]), Double.parseDouble(f[6])));
                }
            } catch (NumberFormatException e) {
                throw new IOException(file + " line " + (i + 1) + " holds a number that is not one: "
                        + lines.get(i), e);
            }
        }
        return rows;
    }
}
