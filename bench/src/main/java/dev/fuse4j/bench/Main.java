package dev.fuse4j.bench;

import dev.fuse4j.BackendStatus;
import dev.fuse4j.Backends;

import java.util.Arrays;

/** Entry point of the launcher's commands: {@code probe}, {@code compare}, {@code train}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        String cmd = args.length == 0 ? "help" : args[0];
        String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
        switch (cmd) {
            case "probe" -> probe();
            case "compare" -> System.exit(dev.fuse4j.bench.compare.CompareCommand.run(rest));
            case "train" -> System.exit(dev.fuse4j.bench.train.TrainCommand.run(rest));
            default -> {
                System.err.println("unknown command '" + cmd + "'; commands: probe, compare, train");
                System.exit(2);
            }
        }
    }

    /** Lists every backend device with what was found or why it cannot run, and which one select() picks. */
    static void probe() {
        for (BackendStatus s : Backends.probe()) {
            System.out.println(s);
        }
        System.out.println("selected: " + Backends.select());
    }
}
