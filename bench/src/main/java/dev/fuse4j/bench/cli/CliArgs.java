package dev.fuse4j.bench.cli;

import java.io.PrintStream;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

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

    /** Thrown for {@code --version}: the command prints the Fuse4J version and exits 0. */
    public static final class VersionRequested extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public VersionRequested() {
            super("version requested");
        }
    }

    /** {@code args} with each {@code --opt=value} as the words {@code --opt value}; a flag given a value is refused. */
    public static String[] splitInline(String[] args, Set<String> flags) {
        List<String> words = new ArrayList<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (!a.startsWith("--") || eq < 3) {
                words.add(a);
            } else if (flags.contains(a.substring(0, eq))) {
                throw new IllegalArgumentException(a.substring(0, eq) + " takes no value, not '" + a + "'");
            } else {
                words.add(a.substring(0, eq));
                words.add(a.substring(eq + 1));
            }
        }
        return words.toArray(String[]::new);
    }

    /** What an option no case of a command took means: a request for help or the version, else a usage error. */
    public static RuntimeException unknown(String option) {
        return switch (option) {
            case "-h", "--help" -> new HelpRequested();
            case "--version" -> new VersionRequested();
            default -> new IllegalArgumentException("unknown option '" + option + "' (see --help)");
        };
    }

    /**
     * Ends a command that stopped before running: the usage or the version on {@code out} (exit 0), or the error and
     * the usage line on {@code err} (exit 2).
     */
    public static int stopped(RuntimeException e, String command, String usage, PrintStream out, PrintStream err) {
        if (e instanceof HelpRequested) {
            out.print(usage);
            return ExitCode.OK;
        }
        if (e instanceof VersionRequested) {
            out.println(Version.describe());
            return ExitCode.OK;
        }
        err.println(command + ": " + e.getMessage());
        err.println(usage.lines().findFirst().orElseThrow());
        return ExitCode.USAGE;
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
