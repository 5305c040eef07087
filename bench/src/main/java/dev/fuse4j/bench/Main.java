package dev.fuse4j.bench;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendStatus;
import dev.fuse4j.Backends;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/** Entry point of the launcher's commands: {@code probe}, {@code compare}, {@code train}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        String cmd = args.length == 0 ? "help" : args[0];
        String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
        switch (cmd) {
            case "probe" -> probe(System.out);
            case "compare" -> System.exit(dev.fuse4j.bench.compare.CompareCommand.run(rest));
            case "train" -> System.exit(dev.fuse4j.bench.train.TrainCommand.run(rest));
            default -> {
                System.err.println("unknown command '" + cmd + "'; commands: probe, compare, train");
                System.exit(2);
            }
        }
    }

    /**
     * Lists every backend device in select() order with what was found or why it cannot run, which one select()
     * picks, and why each other available device was passed over.
     */
    static void probe(PrintStream out) {
        List<BackendStatus> all = Backends.probe();
        for (BackendStatus s : all) {
            out.println(s);
        }
        Backend selected = Backends.select();
        out.println("selected: " + selected);
        for (BackendStatus s : all) {
            String why = s.available() ? Backends.passedOver(s, selected) : null;
            if (why != null) {
                out.println("passed over " + s.name() + ": " + why);
            }
        }
    }
}
