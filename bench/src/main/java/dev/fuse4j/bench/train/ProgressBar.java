package dev.fuse4j.bench.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The bar shown while an epoch runs. On a terminal it redraws one line (at most ten times a second); into a log
 * or CI console, where carriage returns pile up, it prints a line at each quarter instead.
 */
final class ProgressBar {
    private static final int WIDTH = 30;

    private final PrintStream out;
    private final boolean terminal;
    private final String label;
    private final long started = System.nanoTime();
    private long lastDraw;
    private int lastQuarter;

    ProgressBar(PrintStream out, boolean terminal, String label) {
        this.out = out;
        this.terminal = terminal;
        this.label = label;
    }

    void update(int done, int total, double meanLoss) {
        long now = System.nanoTime();
        if (terminal) {
            if (done < total && now - lastDraw < 100_000_000L) {
                return;
            }
            lastDraw = now;
            out.print("\r" + line(done, total, meanLoss, now));
            if (done == total) {
                out.print("\r" + " ".repeat(line(done, total, meanLoss, now).length()) + "\r");
            }
            out.flush();
        } else {
            int quarter = (int) (4L * done / total);
            if (quarter > lastQuarter && done < total) {
                lastQuarter = quarter;
                out.println(line(done, total, meanLoss, now));
                out.flush();
            }
        }
    }

    String line(int done, int total, double meanLoss, long now) {
        int filled = (int) ((long) WIDTH * done / total);
        double elapsed = (now - started) / 1e9;
        double eta = done == 0 ? 0 : elapsed * (total - done) / done;
        return String.format(Locale.ROOT, "%s [%s%s] %3d%% %d/%d batches  loss %.4f  %.0fs left", label,
                "#".repeat(filled), ".".repeat(WIDTH - filled), 100L * done / total, done, total, meanLoss, eta);
    }
}
