package dev.fuse4j.bench.cli;

/** Exit statuses the commands share. */
public final class ExitCode {
    /** Everything ran and every check passed. */
    public static final int OK = 0;
    /** The command ran but its result is wrong: a cross-check failed, training diverged, masks disagreed. */
    public static final int FAILED = 1;
    /** The command could not start: bad options, data, backend or checkpoint. */
    public static final int USAGE = 2;

    private ExitCode() {
    }
}
