package dev.fuse4j.bench.cli;

import dev.fuse4j.bench.compare.CompareOptions;
import dev.fuse4j.bench.train.TrainOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What every command of the launcher shares: --opt=value, help, --version, and usage errors with exit status 2. */
class CommandLineConventionsTest {

    private record Run(int code, String out, String err) {
    }

    private static Run main(String... args) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Each "--opt value" pair of {@code args} written as the one word "--opt=value"; flags stay as they are. */
    private static String[] inline(String... args) {
        List<String> words = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            boolean valued = i + 1 < args.length && !args[i + 1].startsWith("--");
            words.add(valued ? args[i] + "=" + args[++i] : args[i]);
        }
        return words.toArray(String[]::new);
    }

    @Test
    void compareTakesEveryOptionWithAnEqualsSignAsWithASpace() {
        String[] spaced = {"--shapes", "2x3x4,5x6x7", "--p", "0.25", "--warmup", "0", "--reps", "3", "--budget",
            "2.5", "--backends", "cpu,opencl:0", "--peers", "none", "--out", "x/y", "--no-check"};
        String[] joined = inline(spaced);
        assertEquals(List.of("--shapes=2x3x4,5x6x7", "--p=0.25", "--warmup=0", "--reps=3", "--budget=2.5",
                "--backends=cpu,opencl:0", "--peers=none", "--out=x/y", "--no-check"), List.of(joined));
        assertEquals(CompareOptions.parse(spaced), CompareOptions.parse(joined));
        assertEquals(CompareOptions.parse("--shapes", "gpu"), CompareOptions.parse("--shapes=gpu"));
        assertFalse(CompareOptions.parse(joined).equals(CompareOptions.parse()), "the joined options took effect");
    }

    @Test
    void trainTakesEveryOptionWithAnEqualsSignAsWithASpace(@TempDir Path dir) {
        String[] spaced = {"--data", dir.toString(), "--train-images", "a", "--train-labels", "b", "--val-images", "c",
            "--val-labels", "d", "--hidden", "16,8", "--activation", "leaky_relu:0.2", "--dropout", "0.1", "--epochs",
            "3", "--batch", "16", "--optimizer", "sgd", "--lr", "0.02", "--momentum", "0.5", "--weight-decay", "1e-4",
            "--seed", "7", "--limit", "100", "--compare-no-dropout", "--mask-digest", "--resume", "--backend", "cpu",
            "--out", "o", "--export", "e", "--preset", "classifier"};
        String[] joined = inline(spaced);
        assertEquals(spaced.length - 20, joined.length, "every valued option became one word");
        assertEquals(TrainOptions.parse(spaced), TrainOptions.parse(joined));
        assertFalse(TrainOptions.parse(joined).equals(TrainOptions.parse()), "the joined options took effect");
        assertEquals(TrainOptions.parse("--data", dir.toString()), TrainOptions.parse("--data=" + dir));
    }

    @Test
    void anEqualsSignKeepsTheValidationAndItsMessages() {
        expect("--reps must be at least 1 but is 0", () -> CompareOptions.parse("--reps=0"));
        expect("--p must be in [0, 1] but is '1.5'", () -> CompareOptions.parse("--p=1.5"));
        expect("--shapes needs at least one shape, not ''", () -> CompareOptions.parse("--shapes="));
        expect("--dropout must be in [0, 1) but is '1'", () -> TrainOptions.parse("--dropout=1"));
        expect("--optimizer must be adam or sgd, not 'lbfgs'", () -> TrainOptions.parse("--optimizer=lbfgs"));
        expect("--no-check takes no value, not '--no-check=yes'", () -> CompareOptions.parse("--no-check=yes"));
        expect("--resume takes no value, not '--resume=false'", () -> TrainOptions.parse("--resume=false"));
        expect("unknown option '--fast'", () -> CompareOptions.parse("--fast=1"));
    }

    private static void expect(String message, Runnable parse) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, parse::run);
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void helpPrintsTheUsageAndExitsZeroWithoutRunningTheCommand(@TempDir Path dir) throws IOException {
        Path notMade = dir.resolve("not-made");
        Path noData = dir.resolve("no-data");
        String[][] compare = {{"compare", "--help"}, {"compare", "--out", notMade.toString(), "-h"},
            {"help", "compare"}};
        for (String[] args : compare) {
            assertEquals(new Run(0, CompareOptions.USAGE, ""), main(args), String.join(" ", args));
        }
        String[][] train = {{"train", "--data", noData.toString(), "--out", notMade.toString(), "--help"},
            {"train", "-h"}, {"help", "train"}};
        for (String[] args : train) {
            assertEquals(new Run(0, TrainOptions.USAGE, ""), main(args), String.join(" ", args));
        }
        for (String[] args : new String[][] {{"probe", "--help"}, {"probe", "-h"}, {"help", "probe"}}) {
            assertEquals(new Run(0, ProbeCommand.USAGE, ""), main(args), String.join(" ", args));
        }
        assertFalse(Files.exists(notMade), "a command ran and made its --out folder");
        for (String[] args : new String[][] {{}, {"help"}, {"--help"}, {"-h"}, {"help", "help"}}) {
            assertEquals(new Run(0, Main.USAGE, ""), main(args), String.join(" ", args));
        }
        for (String command : List.of("probe", "compare", "train")) {
            assertTrue(Main.USAGE.contains("\n  " + command + " "), "help lists " + command);
        }
    }

    @Test
    void anUnknownOptionExitsTwoWithTheUsageLineAndTheOption() throws IOException {
        Object[][] cases = {{"probe", ProbeCommand.USAGE}, {"compare", CompareOptions.USAGE},
            {"train", TrainOptions.USAGE}};
        for (Object[] c : cases) {
            Run r = main((String) c[0], "--fast");
            String usageLine = ((String) c[1]).lines().findFirst().orElseThrow();
            assertEquals(ExitCode.USAGE, r.code, r.err);
            assertEquals(c[0] + ": unknown option '--fast' (see --help)\n" + usageLine + "\n", r.err);
            assertEquals("", r.out);
        }
        Run bad = main("compare", "--reps=many");
        assertEquals(ExitCode.USAGE, bad.code);
        assertEquals("compare: --reps takes a whole number, not 'many'\nusage: ./fuse4j compare [options]\n", bad.err);
        Run unknown = main("benchmark");
        assertEquals(ExitCode.USAGE, unknown.code);
        assertEquals("fuse4j: unknown command 'benchmark'; commands: probe, compare, train, help\n"
                + "usage: ./fuse4j COMMAND [options]\n", unknown.err);
        assertEquals(ExitCode.USAGE, main("help", "benchmark").code);
        assertEquals(ExitCode.USAGE, main("--fast").code);
    }

    @Test
    void versionPrintsTheBuildsVersionWithTheJdkAndOs() throws IOException {
        Matcher m = Pattern.compile("<parent>.*?<version>([^<]+)</version>", Pattern.DOTALL)
                .matcher(Files.readString(Path.of("pom.xml")));
        assertTrue(m.find(), "bench/pom.xml names its parent's version");
        assertEquals(m.group(1), Version.fuse4j());
        String line = "Fuse4J " + m.group(1) + " (JDK " + Runtime.version() + " " + System.getProperty("java.vendor")
                + "; " + System.getProperty("os.name") + " ";
        for (String[] args : new String[][] {{"--version"}, {"probe", "--version"}, {"compare", "--version"},
            {"train", "--version"}}) {
            Run r = main(args);
            assertEquals(0, r.code, String.join(" ", args));
            assertTrue(r.out.startsWith(line) && r.out.endsWith(System.getProperty("os.arch") + ")\n")
                    && r.out.lines().count() == 1, String.join(" ", args) + ": " + r.out);
            assertEquals("", r.err);
        }
    }
}
