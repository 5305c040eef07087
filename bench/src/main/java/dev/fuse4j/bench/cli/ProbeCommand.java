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
    private ProbeCommand() {
    }

    public static void run(PrintStream out) {
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
