package dev.fuse4j.bench.compare;

import dev.fuse4j.bench.cli.CliArgs;
import dev.fuse4j.bench.peers.StandardShapes;
import dev.fuse4j.spi.LinearShape;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static dev.fuse4j.bench.cli.CliArgs.list;
import static dev.fuse4j.bench.cli.CliArgs.parseDouble;
import static dev.fuse4j.bench.cli.CliArgs.parseInt;
import static dev.fuse4j.bench.cli.CliArgs.path;
import static dev.fuse4j.bench.cli.CliArgs.value;

/**
 * Command-line options of {@code compare}, checked with messages that name the bad value. Backend and peer names
 * are only checked for form here; which exist is known once the class path is searched.
 *
 * @param backends the backends to time; empty means every available one but the scalar oracle
 * @param peers    the peers to time; null means every one that can run here, empty means none
 */
public record CompareOptions(List<LinearShape> shapes, float p, int warmup, int reps, double budgetSeconds,
                             List<String> backends, List<String> peers, Path out, boolean check) {

    public static final String USAGE = """
            usage: ./fuse4j compare [options]
              --shapes LIST     NxINxOUT,... or 'cpu' / 'gpu' for a standard set (default: the five CPU shapes)
              --p P             dropout probability in training, in [0, 1] (default 0.5)
              --warmup N        untimed calls at least, before timing (default 2; warm-up also runs for 2.5 s
                                or a sixth of the budget, whichever is less, and until the calls stop
                                getting faster)
              --reps N          timed calls at most per measurement (default: as many as fit in the
                                measurement's half of the budget; the table gives their median)
              --budget SECONDS  time per case, forward and backward together (default 10); a peer whose whole
                                batch would not fit is timed on its first rows, and the table says so; a
                                backend always runs the whole batch, at least one warm-up and one timed call
              --backends LIST   backend names to check and time, e.g. cpu,opencl:0 (default: every available
                                one; the scalar oracle cpu-scalar is cross-checked but not timed unless named)
              --peers LIST      plain-java,openblas,pytorch or none (default: every peer that can run here)
              --out DIR         where results.json and report.html go (default fuse4j-out)
              --no-check        skip the cross-check against the float64 reference
              --version         the Fuse4J version, JDK and OS
              -h, --help        this text
            an option's value follows it as the next word or after '=': --out DIR or --out=DIR
            exit status: 0 when every cross-check passed, 1 when one failed, 2 for bad options
            """;

    public static CompareOptions parse(String... args) {
        List<LinearShape> shapes = StandardShapes.CPU;
        float p = 0.5f;
        int warmup = 2;
        int reps = Integer.MAX_VALUE;
        double budget = 10;
        List<String> backends = List.of();
        List<String> peers = null;
        Path out = Path.of("fuse4j-out");
        boolean check = true;
        args = CliArgs.splitInline(args, Set.of("--no-check"));
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--shapes" -> shapes = shapes(value(args, ++i, a));
                case "--p" -> {
                    String v = value(args, ++i, a);
                    p = (float) parseDouble(v, a);
                    if (!(p >= 0f && p <= 1f)) {
                        throw new IllegalArgumentException("--p must be in [0, 1] but is '" + v + "'");
                    }
                }
                case "--warmup" -> warmup = parseInt(value(args, ++i, a), a, 0);
                case "--reps" -> reps = parseInt(value(args, ++i, a), a, 1);
                case "--budget" -> {
                    String v = value(args, ++i, a);
                    budget = parseDouble(v, a);
                    if (!(budget > 0 && budget < 1e6)) {
                        throw new IllegalArgumentException("--budget must be a positive number of seconds but is '"
                                + v + "'");
                    }
                }
                case "--backends" -> backends = list(value(args, ++i, a), a);
                case "--peers" -> {
                    String v = value(args, ++i, a);
                    peers = v.trim().equals("none") ? List.of() : list(v, a);
                }
                case "--out" -> out = path(value(args, ++i, a), a);
                case "--no-check" -> check = false;
                default -> throw CliArgs.unknown(a);
            }
        }
        return new CompareOptions(shapes, p, warmup, reps, budget, backends, peers, out, check);
    }

    private static List<LinearShape> shapes(String v) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "cpu" -> StandardShapes.CPU;
            case "gpu" -> StandardShapes.GPU;
            default -> {
                List<LinearShape> out = new ArrayList<>();
                for (String one : v.split(",")) {
                    if (one.isBlank()) {
                        continue;
                    }
                    try {
                        out.add(StandardShapes.parse(one));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("--shapes: '" + one.trim() + "' is not a shape: "
                                + e.getMessage(), e);
                    }
                }
                if (out.isEmpty()) {
                    throw new IllegalArgumentException("--shapes needs at least one shape, not '" + v + "'");
                }
                yield List.copyOf(out);
            }
        };
    }
}
