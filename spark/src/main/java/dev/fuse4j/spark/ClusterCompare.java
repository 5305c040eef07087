package dev.fuse4j.spark;

import dev.fuse4j.BackendStatus;
import dev.fuse4j.Backends;
import dev.fuse4j.bench.compare.CompareCommand;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * {@code ./fuse4j compare} run on every executor of a Spark application, its tables gathered into one report with
 * a section per executor: its host, its devices and what compare measured there. It runs bench's own compare
 * ({@link CompareCommand}), so the figures mean what they mean on one machine. Spark places tasks, not executors:
 * one task per executor is asked for, and an executor that gets two keeps its first.
 */
public final class ClusterCompare {

    /**
     * What compare reported on one executor.
     *
     * @param host     the executor's host
     * @param executor Spark's executor id ({@code driver} in local mode)
     * @param devices  the Fuse4J devices available there, one per line
     * @param exitCode compare's exit status (0: every cross-check passed)
     * @param table    compare's table
     * @param log      compare's progress and error output
     */
    public record Section(String host, String executor, String devices, int exitCode, String table, String log)
            implements Serializable {
    }

    private ClusterCompare() {
    }

    /** Runs compare with {@code compareArgs} (its own options; {@code --out} is set here) on every executor. */
    public static List<Section> run(JavaSparkContext sc, String... compareArgs) {
        int executors = sc.isLocal() ? 1 : Math.max(1, sc.statusTracker().getExecutorInfos().length - 1);
        String[] args = compareArgs.clone();
        List<Section> all = sc.parallelize(IntStream.range(0, executors).boxed().toList(), executors)
                .map(i -> runHere(args)).collect();
        return firstPerExecutor(all);
    }

    /** The first section of each executor, in the order given. */
    static List<Section> firstPerExecutor(List<Section> sections) {
        Set<String> seen = new HashSet<>();
        List<Section> out = new ArrayList<>();
        for (Section s : sections) {
            if (seen.add(s.host() + "/" + s.executor())) {
                out.add(s);
            }
        }
        return out;
    }

    /** One report: a header, then each section with its host, executor, devices and table. */
    public static String report(List<Section> sections) {
        StringBuilder b = new StringBuilder("Fuse4J compare on " + sections.size() + " executor"
                + (sections.size() == 1 ? "" : "s") + "\n");
        for (Section s : sections) {
            b.append("\n== host ").append(s.host()).append(", executor ").append(s.executor())
                    .append(s.exitCode() == 0 ? "" : " (compare exited with " + s.exitCode() + ")").append(" ==\n")
                    .append("devices:\n").append(s.devices().indent(2)).append('\n').append(s.table());
            if (s.exitCode() != 0) {
                b.append(s.log());
            }
        }
        return b.toString();
    }

    private static Section runHere(String[] compareArgs) throws IOException {
        SparkEnv env = SparkEnv.get();
        String host = env.blockManager().blockManagerId().host();
        String devices = String.join("\n", Backends.probe().stream().filter(BackendStatus::available)
                .map(s -> s.name() + ": " + s.device()).toList());
        Path dir = Files.createTempDirectory("fuse4j-compare");
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            String[] args = Stream.concat(Stream.of(compareArgs), Stream.of("--out", dir.toString()))
                    .toArray(String[]::new);
            int code;
            try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                 PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
                code = CompareCommand.run(args, o, e);
            }
            String table = out.toString(StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.startsWith("wrote ")).reduce("", (a, l) -> a + l + "\n");
            return new Section(host, env.executorId(), devices, code, table, err.toString(StandardCharsets.UTF_8));
        } finally {
            deleteTree(dir);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
