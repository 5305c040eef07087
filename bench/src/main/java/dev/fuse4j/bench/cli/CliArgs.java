package dev.fuse4j.bench.cli;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Option values of the launcher's commands, read with messages that name the option and the bad value. */
public final class CliArgs {
    private CliArgs() {
    }

    /** Thrown for {@code -h}/{@code --help}: the command prints its usage and exits 0. */
    public static final class HelpRequested extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public HelpRequested() {
            super("help requested");
        }
    }

    /** The value after {@code option} at {@code args[i]}. */
    public static String value(String[] args, int i, String option) {
        if (i >= args.length || args[i].startsWith("--")) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    public static int parseInt(String v, String option, int min) {
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a whole number, not '" + v + "'", e);
        }
        if (n < min) {
            throw new IllegalArgumentException(option + " must be at least " + min + " but is " + n);
        }
        return n;
    }

    public static double parseDouble(String v, String option) {
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a number, not '" + v + "'", e);
        }
    }

    public static long parseLong(String v, String option) {
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a whole number, not '" + v + "'", e);
        }
    }

    public static Path path(String v, String option) {
        try {
            return Path.of(v);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(option + ": '" + v + "' is not a usable path: " + e.getReason(), e);
        }
    }

    /** A comma-separated list with blanks dropped; at least one entry. */
    public static List<String> list(String csv, String option) {
        List<String> l = Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        if (l.isEmpty()) {
            throw new IllegalArgumentException(option + " needs at least one name, not '" + csv + "'");
        }
        return l;
    }
}
