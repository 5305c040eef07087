package dev.fuse4j.bench.compare;

import dev.fuse4j.bench.StandardShapes;
import dev.fuse4j.bench.StandardShapes.Shape;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Command-line options of {@code compare}, checked with messages that name the bad value. */
public record CompareOptions(List<Shape> shapes, float p, int warmup, int reps, double budgetSeconds,
                             List<String> backends, List<String> peers, Path out, boolean check) {

    public static final String USAGE = """
            usage: ./fuse4j compare [options]
              --shapes LIST     NxINxOUT,... (default: the five standard CPU shapes)
              --p P             dropout probability in training (default 0.5)
              --warmup N        untimed calls before timing (default 2)
              --reps N          timed calls per case (default 7)
              --budget SECONDS  stop timing a case after this long, keeping at least 1 rep (default 10)
              --backends LIST   backend names to time (default: every available one)
              --peers LIST      plain-java,openblas or none (default: all that can run)
              --out DIR         where results.json and report.html go (default fuse4j-out)
              --no-check        skip the cross-check against the CPU reference
            """;

    public static CompareOptions parse(String... args) {
        List<Shape> shapes = StandardShapes.CPU;
        float p = 0.5f;
        int warmup = 2;
        int reps = 7;
        double budget = 10;
        List<String> backends = List.of();
        List<String> peers = List.of("plain-java", "openblas");
        Path out = Path.of("fuse4j-out");
        boolean check = true;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--shapes" -> shapes = StandardShapes.parseList(value(args, ++i, a));
                case "--p" -> {
                    p = parseFloat(value(args, ++i, a), a);
                    if (!(p >= 0f && p <= 1f)) {
                        throw new IllegalArgumentException("--p must be in [0, 1] but is " + p);
                    }
                }
                case "--warmup" -> warmup = parseInt(value(args, ++i, a), a, 0);
                case "--reps" -> reps = parseInt(value(args, ++i, a), a, 1);
                case "--budget" -> {
                    budget = parseFloat(value(args, ++i, a), a);
                    if (!(budget > 0)) {
                        throw new IllegalArgumentException("--budget must be > 0 seconds but is " + budget);
                    }
                }
                case "--backends" -> backends = list(value(args, ++i, a));
                case "--peers" -> {
                    String v = value(args, ++i, a);
                    peers = v.equals("none") ? List.of() : list(v);
                    for (String peer : peers) {
                        if (!List.of("plain-java", "openblas").contains(peer)) {
                            throw new IllegalArgumentException("unknown peer '" + peer
                                    + "'; peers: plain-java, openblas, or none");
                        }
                    }
                }
                case "--out" -> out = Path.of(value(args, ++i, a));
                case "--no-check" -> check = false;
                case "-h", "--help" -> throw new HelpRequested();
                default -> throw new IllegalArgumentException("unknown option '" + a + "'\n" + USAGE);
            }
        }
        return new CompareOptions(shapes, p, warmup, reps, budget, backends, peers, out, check);
    }

    /** Thrown for --help: the caller prints {@link #USAGE} and exits 0. */
    public static final class HelpRequested extends RuntimeException {
        private static final long serialVersionUID = 1L;

        HelpRequested() {
            super(USAGE);
        }
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static int parseInt(String v, String option, int min) {
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min) {
                throw new IllegalArgumentException(option + " must be at least " + min + " but is " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a whole number, not '" + v + "'", e);
        }
    }

    private static float parseFloat(String v, String option) {
        try {
            return Float.parseFloat(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a number, not '" + v + "'", e);
        }
    }

    private static List<String> list(String csv) {
        List<String> l = new ArrayList<>(Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .toList());
        if (l.isEmpty()) {
            throw new IllegalArgumentException("empty list '" + csv + "'");
        }
        return List.copyOf(l);
    }
}
