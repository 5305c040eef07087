package dev.fuse4j.bench.compare;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The running commentary on stderr: one line per step with its number, the total, and the time since the start,
 * so a slow case is visible while it runs. Lines rather than a rewritten status line, because stderr is often a
 * log file or a CI console.
 */
final class Progress {
    private final PrintStream out;
    private final long started = System.nanoTime();
    private int total;
    private int done;

    Progress(PrintStream out) {
        this.out = out;
    }

    /** Sets how many steps the run will take; the count restarts at zero. */
    void expect(int steps) {
        total = steps;
        done = 0;
    }

    void step(String what) {
        done++;
        int width = Integer.toString(Math.max(total, 1)).length();
        out.printf(Locale.ROOT, "[%" + width + "d/%d %7.1fs] %s%n", done, total, elapsedSeconds(), what);
        out.flush();
    }

    /** A line outside the count: something the user should know about a step. */
    void note(String what) {
        out.printf(Locale.ROOT, "%s  %s%n", " ".repeat(Integer.toString(Math.max(total, 1)).length() * 2 + 11), what);
        out.flush();
    }

    double elapsedSeconds() {
        return (System.nanoTime() - started) / 1e9;
    }
}
