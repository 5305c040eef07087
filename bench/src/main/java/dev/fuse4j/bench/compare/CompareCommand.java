package dev.fuse4j.bench.compare;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendStatus;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Backends;
import dev.fuse4j.Dropout;
import dev.fuse4j.bench.cli.CliArgs;
import dev.fuse4j.bench.cli.ExitCode;
import dev.fuse4j.bench.peers.BackendLayer;
import dev.fuse4j.bench.peers.LayerInputs;
import dev.fuse4j.bench.peers.LibraryGemm;
import dev.fuse4j.bench.peers.Peer;
import dev.fuse4j.bench.peers.Peers;
import dev.fuse4j.spi.LinearShape;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code ./fuse4j compare}: lists the backends, cross-checks each against the float64 reference, times the fused
 * forward and backward on each and on the peers at the same shapes, then prints the table and writes
 * {@code results.json} and {@code report.html}. Progress goes to stderr, the table to stdout.
 */
public final class CompareCommand {
    private static final System.Logger LOG = System.getLogger(CompareCommand.class.getName());
    /** Seed of the timed inputs: every backend and peer gets the same numbers. */
    private static final long INPUT_SEED = 42L;
    /** The scalar oracle: cross-checked like the others, but too slow to race at the standard shapes. */
    private static final String ORACLE = "cpu-scalar";
    /**
     * The peak is measured at the start and at the end: the FMA loop and each library GEMM for this long (a quarter
     * of the case budget when that is shorter, so a tiny test run stays short), the loop after half as much warm-up.
     */
    private static final double PEAK_SECONDS = 1.0;

    private final CompareOptions options;
    private final Progress progress;

    CompareCommand(CompareOptions options, PrintStream progress) {
        this.options = options;
        this.progress = new Progress(progress);
    }

    /** Runs the command; returns the {@link ExitCode}: FAILED when a cross-check failed, USAGE for bad options. */
    public static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        CompareOptions o;
        List<Backend> backends;
        List<Peer> peers;
        try {
            o = CompareOptions.parse(args);
            prepareOut(o.out());
            backends = chooseBackends(o);
            peers = choosePeers(o);
        } catch (CliArgs.HelpRequested | CliArgs.VersionRequested | IllegalArgumentException
                 | BackendUnavailableException e) {
            return CliArgs.stopped(e, "compare", CompareOptions.USAGE, out, err);
        }
        Results r = new CompareCommand(o, err).execute(backends, peers);
        String table = TableFormatter.format(r);
        out.print(table);
        Path json = o.out().resolve("results.json");
        Path html = o.out().resolve("report.html");
        Files.writeString(json, ResultsJson.write(r), StandardCharsets.UTF_8);
        Files.writeString(html, HtmlReport.write(r, table), StandardCharsets.UTF_8);
        out.println("wrote " + json + " and " + html);
        if (!r.allChecksPassed()) {
            err.println("compare: a cross-check failed (see the table); exit status " + ExitCode.FAILED);
            return ExitCode.FAILED;
        }
        return ExitCode.OK;
    }

    Results execute(List<Backend> backends, List<Peer> peers) {
        List<BackendStatus> probe = Backends.probe();
        List<Backend> checked = new ArrayList<>(backends);
        if (options.backends().isEmpty()) {
            oracle(probe).ifPresent(checked::add);
        }
        List<Peer> runnable = peers.stream().filter(p -> p.unavailableReason() == null).toList();
        // The raced peers' own GEMMs, timed alone at each shape beside their layers.
        List<LibraryGemm> ownGemms = runnable.stream().flatMap(p -> p.gemm().stream()).toList();
        int checks = options.check() ? (checked.size() + runnable.size()) * CrossCheck.SHAPES.size() : 0;
        progress.expect(2 + checks + options.shapes().size() * (backends.size() + runnable.size() + ownGemms.size()));

        progress.step("measuring the machine's peak: an FMA loop and the libraries' GEMMs");
        double peakSeconds = Math.min(PEAK_SECONDS, options.budgetSeconds() / 4);
        // Every library that can run sets the peak, raced as a peer in this run or not: the peak is the machine's.
        List<LibraryGemm> gemms = Peers.available().stream().flatMap(p -> p.gemm().stream()).toList();
        MachinePeak.Peak first = MachinePeak.measure(peakSeconds / 2, peakSeconds, gemms);

        List<CrossCheck.Result> results = new ArrayList<>();
        if (options.check()) {
            for (Backend be : checked) {
                crossCheck(be.name(), s -> CrossCheck.run(be, s, options.p()), results);
            }
            for (Peer peer : runnable) {
                crossCheck("peer " + peer.name(), s -> CrossCheck.runPeer(peer, s, options.p()), results);
            }
        }

        List<Results.PeerNote> notes = peers.stream()
                .map(p -> new Results.PeerNote(p.name(), p.description(), p.unavailableReason())).toList();
        CaseTimer timer = new CaseTimer(options.warmup(), options.reps(), options.budgetSeconds());
        Dropout d = Dropout.train(options.p(), 1234L, 0L);
        List<Results.Timing> timings = new ArrayList<>();
        List<Results.GemmTiming> gemmTimings = new ArrayList<>();
        for (LinearShape s : options.shapes()) {
            LayerInputs in = LayerInputs.random(s, INPUT_SEED);
            for (Backend be : backends) {
                progress.step("timing " + be.name() + " at " + s);
                timings.add(timeCase(be.name(), false, onHostCpu(be, probe), s,
                        () -> timer.time(in, i -> new BackendLayer(be, i, d), false)));
            }
            for (Peer p : runnable) {
                progress.step("timing peer " + p.name() + " at " + s);
                Results.Timing t = timeCase(p.name(), true, true, s, () -> timer.time(in, i -> p.prepare(i, d), true));
                if (t.capped()) {
                    progress.note(p.name() + " timed on the first " + t.rowsTimed() + " of " + s.n()
                            + " rows to stay within the budget");
                }
                timings.add(t);
            }
            for (LibraryGemm g : ownGemms) {
                progress.step("timing " + g.label() + " alone at " + s);
                gemmTimings.add(timeGemm(g, s, timer));
            }
        }
        progress.step("measuring the machine's peak again");
        MachinePeak.Peak peak = MachinePeak.Peak.best(first, MachinePeak.measure(peakSeconds / 2, peakSeconds, gemms));
        String machine = Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.arch")
                + ", " + System.getProperty("os.name") + ", Java " + Runtime.version();
        progress.note(String.format(Locale.ROOT, "done in %.1f s", progress.elapsedSeconds()));
        return new Results(machine, peak, options.p(), options.budgetSeconds(), probe, notes, results, timings,
                gemmTimings);
    }

    /**
     * Times a library's GEMM alone on the forward's product at {@code s}, on the threads its peer ran with, for half
     * the case budget like a forward; a GEMM that throws gets a row saying so.
     */
    private Results.GemmTiming timeGemm(LibraryGemm g, LinearShape s, CaseTimer timer) {
        int threads = 0;
        try {
            threads = g.threads();
            try (LibraryGemm.Product product = g.prepare(s.n(), s.out(), s.in(), threads)) {
                return new Results.GemmTiming(g.label(), threads, s,
                        timer.measure(product::run, options.budgetSeconds() / 2), null);
            }
        } catch (RuntimeException | LinkageError e) {
            LOG.log(System.Logger.Level.WARNING, g.label() + " alone at " + s + " failed", e);
            progress.note(g.label() + " alone at " + s + " failed: " + e);
            return Results.GemmTiming.failed(g.label(), threads, s, e.toString());
        }
    }

    /** Cross-checks one backend or peer at every check shape, saying at once when one fails. */
    private void crossCheck(String who, Function<LinearShape, CrossCheck.Result> check,
                            List<CrossCheck.Result> results) {
        for (LinearShape s : CrossCheck.SHAPES) {
            progress.step("cross-check " + who + " at " + s);
            CrossCheck.Result c = check.apply(s);
            if (!c.passed()) {
                progress.note("FAILED: " + describe(c));
            }
            results.add(c);
        }
    }

    /** Runs one timed case; a backend or peer that throws gets a row saying so, and the run goes on. */
    private Results.Timing timeCase(String who, boolean peer, boolean onCpu, LinearShape s,
                                    Supplier<CaseTimer.Measured> timed) {
        try {
            CaseTimer.Measured m = timed.get();
            return new Results.Timing(who, peer, onCpu, s, m.rows(), m.forward(), m.backward(), null);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, who + " at " + s + " failed", e);
            progress.note(who + " at " + s + " failed: " + e);
            return Results.Timing.failed(who, peer, onCpu, s, e.toString());
        }
    }

    /** Makes the output folder before the run rather than failing to write after minutes of timing. */
    private static void prepareOut(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("--out '" + dir + "' cannot be made into a folder: " + e, e);
        }
        if (!Files.isWritable(dir)) {
            throw new IllegalArgumentException("--out '" + dir + "' is not writable");
        }
    }

    private static String describe(CrossCheck.Result c) {
        return c.backend() + " at " + c.shape() + (c.error() != null ? ": " + c.error()
                : ": " + c.maskDiffers() + " mask elements differ, errors " + c.forwardErrorRatio() + " (forward) and "
                + c.backwardErrorRatio() + " (backward) of the bound");
    }

    /** Whether the backend computes on this machine's CPU, so that its fraction of the CPU's peak means something. */
    private static boolean onHostCpu(Backend be, List<BackendStatus> probe) {
        return probe.stream().anyMatch(s -> s.name().equals(be.name()) && s.kind() != null && s.kind().isHostCpu());
    }

    private static Optional<Backend> oracle(List<BackendStatus> probe) {
        return probe.stream().filter(s -> s.available() && s.name().equals(ORACLE)).findFirst()
                .map(s -> Backends.get(s.name()));
    }

    /**
     * The backends asked for (an asked-for backend that cannot run is an error), or every available one but the
     * scalar oracle: at the largest standard shape one of its calls takes half a minute.
     */
    private static List<Backend> chooseBackends(CompareOptions o) {
        List<Backend> out = new ArrayList<>();
        if (!o.backends().isEmpty()) {
            for (String name : o.backends()) {
                try {
                    out.add(Backends.get(name));
                } catch (IllegalArgumentException | BackendUnavailableException e) {
                    throw e;
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException("backend '" + name + "' could not be opened: " + e, e);
                }
            }
            return out;
        }
        for (BackendStatus s : Backends.probe()) {
            if (s.available() && !s.name().equals(ORACLE)) {
                try {
                    out.add(Backends.get(s.name()));
                } catch (RuntimeException e) {
                    // The probe said yes but opening failed: the run goes on without it, and says so.
                    LOG.log(System.Logger.Level.WARNING, "backend " + s.name() + " is left out: it could not be "
                            + "opened: " + e, e);
                }
            }
        }
        return out;
    }

    /** The peers asked for, available or not (those that cannot run get a line saying why), or every known one. */
    private static List<Peer> choosePeers(CompareOptions o) {
        if (o.peers() == null) {
            return Peers.all();
        }
        List<Peer> out = new ArrayList<>();
        for (String name : o.peers()) {
            out.add(Peers.byName(name));
        }
        return out;
    }
}
