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
    static final String HEADER = "run,epoch,running_loss,running_accuracy,train_loss,train_accuracy,val_loss,"
            + "val_accuracy,seconds";

    private HistoryCsv() {
    }

    static void write(Path file, List<Epoch> rows) throws IOException {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (Epoch e : rows) {
            sb.append(String.format(Locale.ROOT, "%s,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f%n", e.run(), e.epoch(),
                    e.runningLoss(), e.runningAccuracy(), e.trainLoss(), e.trainAccuracy(), e.valLoss(),
                    e.valAccuracy(), e.seconds()));
        }
        // Beside the target, then moved over it: an interrupted write never leaves half a file.
        Path tmp = file.resolveSibling(file.getFileName() + ".partial");
        Files.writeString(tmp, sb, StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Every row of the file; none when it is missing. */
    static List<Epoch> read(Path file) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
            throw new IOException(file + " is not a history this version writes: its first line should be "
                    + HEADER);
        }
        List<Epoch> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",");
            if (f.length != 9) {
                throw new IOException(file + " line " + (i + 1) + ": expected 9 fields but found " + f.length
                        + ": " + lines.get(i));
            }
            try {
                double[] v = new double[7];
                for (int k = 0; k < 7; k++) {
                    v[k] = Double.parseDouble(f[k + 2]);
                }
                rows.add(new Epoch(f[0], Integer.parseInt(f[1]), v[0], v[1], v[2], v[3], v[4], v[5],
                        v[6]));
            } catch (NumberFormatException e) {
                throw new IOException(file + " line " + (i + 1) + " holds a number that is not one: "
                        + lines.get(i), e);
            }
        }
        return rows;
    }
}
