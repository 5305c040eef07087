package dev.fuse4j.bench.compare;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendStatus;
import dev.fuse4j.Backends;
import dev.fuse4j.Dropout;
import dev.fuse4j.Tensor;
import dev.fuse4j.bench.StandardShapes.Shape;
import dev.fuse4j.bench.peers.OpenBlasPeer;
import dev.fuse4j.bench.peers.Peer;
import dev.fuse4j.bench.peers.PlainJavaPeer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * {@code ./fuse4j compare}: lists the backends, cross-checks each against the float64 reference, times the fused
 * forward and backward on each and on the peers at the same shapes, then prints the table and writes
 * {@code results.json} and {@code report.html}. Progress goes to stderr, the table to stdout.
 */
public final class CompareCommand {
    private final CompareOptions options;
    private final PrintStream progress;
    private final long started = System.nanoTime();

    CompareCommand(CompareOptions options, PrintStream progress) {
        this.options = options;
        this.progress = progress;
    }

    /** Runs the command; returns the process exit code (1 when a cross-check failed, 2 for bad options). */
    public static int run(String[] args) throws IOException {
        CompareOptions o;
        try {
            o = CompareOptions.parse(args);
        } catch (CompareOptions.HelpRequested h) {
            System.out.print(CompareOptions.USAGE);
            return 0;
        } catch (IllegalArgumentException e) {
            System.err.println("compare: " + e.getMessage());
            return 2;
        }
        Results r = new CompareCommand(o, System.err).execute();
        String table = TableFormatter.format(r);
        System.out.print(table);
        Files.createDirectories(o.out());
        Files.writeString(o.out().resolve("results.json"), ReportWriter.json(r));
        Files.writeString(o.out().resolve("report.html"), ReportWriter.html(r, table));
        System.out.println("wrote " + o.out().resolve("results.json") + " and " + o.out().resolve("report.html"));
        return r.allChecksPassed() ? 0 : 1;
    }

    Results execute() {
        List<BackendStatus> probe = Backends.probe();
        List<Backend> backends = chooseBackends(probe);
        step("measuring the machine's FMA peak");
        MachinePeak.measureGflops(0.3); // lets the JIT compile the loop before the measured run
        double peak = MachinePeak.measureGflops(1.0);

        List<CrossCheck.Result> checks = new ArrayList<>();
        if (options.check()) {
            int i = 0;
            for (Backend be : backends) {
                for (Shape s : CrossCheck.SHAPES) {
                    step(String.format(Locale.ROOT, "cross-check %d/%d: %s at %s", ++i,
                            backends.size() * CrossCheck.SHAPES.size(), be.name(), s));
                    checks.add(CrossCheck.run(be, s, options.p()));
                }
            }
        }

        List<Peer> peers = new ArrayList<>();
        List<Results.PeerNote> notes = new ArrayList<>();
        for (String name : options.peers()) {
            Peer p = name.equals("openblas") ? new OpenBlasPeer() : new PlainJavaPeer();
            notes.add(new Results.PeerNote(p.name(), p.description(), p.unavailableReason()));
            if (p.unavailableReason() == null) {
                peers.add(p);
            }
        }

        List<Results.Timing> timings = new ArrayList<>();
        int cases = options.shapes().size() * (backends.size() + peers.size());
        int done = 0;
        Dropout d = Dropout.train(options.p(), 1234L, 0L);
        for (Shape s : options.shapes()) {
            HostInputs in = new HostInputs(s);
            for (Backend be : backends) {
                step(String.format(Locale.ROOT, "timing %d/%d: %s at %s", ++done, cases, be.name(), s));
                timings.add(timeBackend(be, s, in, d));
            }
            for (Peer p : peers) {
                step(String.format(Locale.ROOT, "timing %d/%d: peer %s at %s", ++done, cases, p.name(), s));
                float[] y = p.forward(in.x, in.w, in.b, s, d);
                Stats f = Stats.measure(() -> p.forward(in.x, in.w, in.b, s, d), options.warmup(), options.reps(),
                        options.budgetSeconds());
                Stats b = Stats.measure(() -> p.backward(in.dy, in.x, in.w, y, s, d), options.warmup(),
                        options.reps(), options.budgetSeconds());
                timings.add(new Results.Timing(p.name(), true, true, s, f, b));
            }
        }
        step("done");
        progress.println();
        String machine = Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.arch")
                + ", Java " + Runtime.version();
        return new Results(machine, peak, options.p(), probe, notes, checks, timings);
    }

    private Results.Timing timeBackend(Backend be, Shape s, HostInputs in, Dropout d) {
        try (Tensor x = be.tensor(in.x, s.n(), s.in()); Tensor w = be.tensor(in.w, s.out(), s.in());
             Tensor b = be.tensor(in.b, s.out()); Tensor dy = be.tensor(in.dy, s.n(), s.out());
             Tensor y = be.linearReluDropout(x, w, b, d)) {
            Stats f = Stats.measure(() -> be.linearReluDropout(x, w, b, d).close(), options.warmup(), options.reps(),
                    options.budgetSeconds());
            Stats g = Stats.measure(() -> be.linearReluDropoutBackward(dy, x, w, y, d).close(), options.warmup(),
                    options.reps(), options.budgetSeconds());
            // OpenCL describes a CPU device as "CPU ..." (PoCL); the cpu backends are the CPU by name.
            boolean onCpu = be.name().startsWith("cpu") || be.device().startsWith("CPU");
            return new Results.Timing(be.name(), false, onCpu, s, f, g);
        }
    }

    /**
     * The backends asked for, or every available one but the scalar oracle (it is cross-checked, not raced: at the
     * largest standard shape one call takes half a minute); an asked-for backend that cannot run is an error.
     */
    private List<Backend> chooseBackends(List<BackendStatus> probe) {
        List<Backend> out = new ArrayList<>();
        if (!options.backends().isEmpty()) {
            for (String name : options.backends()) {
                out.add(Backends.get(name));
            }
            return out;
        }
        for (BackendStatus s : probe) {
            if (s.available() && !s.name().equals("cpu-scalar")) {
                out.add(Backends.get(s.name()));
            }
        }
        return out;
    }

    private void step(String what) {
        progress.printf(Locale.ROOT, "\r[%6.1fs] %-70s", (System.nanoTime() - started) / 1e9, what);
        progress.flush();
    }

    /** Deterministic inputs of one shape, shared by every backend and peer so their outputs are comparable. */
    private static final class HostInputs {
        final float[] x;
        final float[] w;
        final float[] b;
        final float[] dy;

        HostInputs(Shape s) {
            Random r = new Random(42);
            x = gaussian(r, s.n() * s.in(), 1);
            w = gaussian(r, s.out() * s.in(), 1 / Math.sqrt(s.in()));
            b = gaussian(r, s.out(), 0.1);
            dy = gaussian(r, s.n() * s.out(), 1);
        }

        private static float[] gaussian(Random r, int len, double sd) {
            float[] a = new float[len];
            for (int i = 0; i < len; i++) {
                a[i] = (float) (r.nextGaussian() * sd);
            }
            return a;
        }
    }
}
