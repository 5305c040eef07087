package dev.fuse4j.bench.cli;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendStatus;
import dev.fuse4j.Backends;

import java.io.PrintStream;
import java.util.List;

/**
 * {@code ./fuse4j probe}: every backend device in select() order with what was found or why it cannot run, the one
 * select() picks, and why each other available device was passed over.
 */
public final class ProbeCommand {
    public static final String USAGE = """
            usage: ./fuse4j probe [options]
            Lists every backend device in select() order with what was found or why it cannot run, the one
            select() picks, and why each other available device was passed over.
              --version   the Fuse4J version, JDK and OS
              -h, --help  this text
            exit status: 0, or 2 for bad options
            """;

    private ProbeCommand() {
    }

    /** Runs the command; returns the {@link ExitCode}: USAGE for any option but help and version. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length > 0) {
            return CliArgs.stopped(CliArgs.unknown(args[0]), "probe", USAGE, out, err);
        }
        probe(out);
        return ExitCode.OK;
    }

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
