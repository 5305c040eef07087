package dev.fuse4j.bench.train;

import java.io.Console;

/** Whether the progress bar may redraw its line: only on a terminal, never into a log file or a CI console. */
final class Terminal {
    private Terminal() {
    }

    /**
     * {@code System.console()} is not enough: since JDK 22 it can exist with output redirected, where
     * {@code Console.isTerminal()} (looked up reflectively, as this code is compiled for 21) tells.
     */
    static boolean stderrIsTerminal() {
        Console c = System.console();
        if (c == null || System.getenv("TERM") == null || "dumb".equals(System.getenv("TERM"))) {
            return false;
        }
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(c);
        } catch (ReflectiveOperationException e) {
            return true; // JDK 21: a console exists only when attached to a terminal
        }
    }
}
