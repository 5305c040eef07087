package dev.fuse4j.bench.cli;

import dev.fuse4j.bench.compare.CompareCommand;
import dev.fuse4j.bench.train.TrainCommand;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;

/** Entry point of the launcher's commands: {@code probe}, {@code compare}, {@code train}, {@code help}. */
public final class Main {
    public static final String USAGE = """
            usage: ./fuse4j COMMAND [options]
              probe        every backend device found, which one runs, and why not the others
              compare      check and time every backend and its peers
              train        train an MLP on MNIST-format files
              help [CMD]   this text, or CMD's options (as CMD --help)
              --version    the Fuse4J version, JDK and OS
            """;

    private Main() {
    }

    public static void main(String[] args) throws IOException {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command {@code args[0]} names; returns its {@link ExitCode}. */
    public static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        String cmd = args.length == 0 ? "help" : args[0];
        String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
        return switch (cmd) {
            case "probe" -> ProbeCommand.run(rest, out, err);
            case "compare" -> CompareCommand.run(rest, out, err);
            case "train" -> TrainCommand.run(rest, out, err);
            case "help", "-h", "--help" -> help(rest, out, err);
            default -> CliArgs.stopped(cmd.startsWith("-") ? CliArgs.unknown(cmd) : new IllegalArgumentException(
                    "unknown command '" + cmd + "'; commands: probe, compare, train, help"), "fuse4j", USAGE, out, err);
        };
    }

    /** {@code help} alone lists the commands; {@code help CMD} is {@code CMD --help}. */
    private static int help(String[] rest, PrintStream out, PrintStream err) throws IOException {
        if (rest.length == 0 || rest[0].startsWith("-") || rest[0].equals("help")) {
            out.print(USAGE);
            return ExitCode.OK;
        }
        return run(new String[] {rest[0], "--help"}, out, err);
    }
}
