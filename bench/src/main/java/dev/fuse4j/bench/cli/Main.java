package dev.fuse4j.bench.cli;

import dev.fuse4j.bench.compare.CompareCommand;
import dev.fuse4j.bench.train.TrainCommand;

import java.util.Arrays;

/** Entry point of the launcher's commands: {@code probe}, {@code compare}, {@code train}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        String cmd = args.length == 0 ? "help" : args[0];
        String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
        switch (cmd) {
            case "probe" -> ProbeCommand.run(System.out);
            case "compare" -> System.exit(CompareCommand.run(rest));
            case "train" -> System.exit(TrainCommand.run(rest));
            default -> {
                System.err.println("unknown command '" + cmd + "'; commands: probe, compare, train");
                System.exit(ExitCode.USAGE);
            }
        }
    }
}
