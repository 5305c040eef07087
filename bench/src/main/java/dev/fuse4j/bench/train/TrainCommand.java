package dev.fuse4j.bench.train;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Backends;
import dev.fuse4j.Tensor;
import dev.fuse4j.bench.CliArgs;
import dev.fuse4j.nn.Adam;
import dev.fuse4j.nn.Checkpoint;
import dev.fuse4j.nn.Optimizer;
import dev.fuse4j.nn.Sequential;
import dev.fuse4j.nn.Sgd;
import dev.fuse4j.nn.Training;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code ./fuse4j train}: trains an MLP on MNIST-format files, printing per epoch the training loss, the
 * validation loss and accuracy and the time, checkpointing after each epoch, and plotting the loss curves; with
 * {@code --compare-no-dropout} the same model is also trained without dropout, to show the gap dropout closes.
 * Progress goes to stderr, the epoch lines and the summary to stdout.
 */
public final class TrainCommand {
    private static final int EVAL_BATCH = 1000;

    private final TrainOptions o;
    private final PrintStream out;
    private final PrintStream err;
    private final boolean terminal;

    TrainCommand(TrainOptions options, PrintStream out, PrintStream err, boolean terminal) {
        this.o = options;
        this.out = out;
        this.err = err;
        this.terminal = terminal;
    }

    public static int run(String[] args) throws IOException {
        return run(args, System.out, System.err, stderrIsTerminal());
    }

    /**
     * Whether the progress bar may redraw its line with carriage returns. {@code System.console()} is not enough:
     * since JDK 22 it can exist with output redirected, where {@code Console.isTerminal()} (looked up reflectively,
     * as this code is compiled for 21) tells; a log file must not fill up with redraws.
     */
    private static boolean stderrIsTerminal() {
        java.io.Console c = System.console();
        if (c == null || System.getenv("TERM") == null || "dumb".equals(System.getenv("TERM"))) {
            return false;
        }
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
        } catch (ReflectiveOperationException e) {
            return true; // JDK 21: a console exists only when attached to a terminal
        }
    }

    /** Runs the command; returns the exit code (1 when training diverged, 2 for bad options, data, backend or
     * checkpoint). */
    static int run(String[] args, PrintStream out, PrintStream err, boolean terminal) throws IOException {
        TrainOptions o;
        try {
            o = TrainOptions.parse(args);
        } catch (CliArgs.HelpRequested h) {
            out.print(TrainOptions.USAGE);
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("train: " + e.getMessage());
            return 2;
        }
        Backend be;
        try {
            be = o.backend() != null ? Backends.get(o.backend()) : Backends.select();
        } catch (BackendUnavailableException | IllegalArgumentException e) {
            err.println("train: " + e.getMessage());
            return 2;
        }
        IdxDataset train;
        IdxDataset val;
        try {
            train = IdxDataset.load(o.trainImages(), o.trainLabels(), o.trainLimit());
            val = IdxDataset.load(o.valImages(), o.valLabels());
        } catch (IOException | IllegalArgumentException e) {
            err.println("train: " + e.getMessage());
            return 2;
        }
        if (train.features() != val.features()) {
            err.println("train: training images have " + train.features() + " pixels but validation images "
                    + val.features());
            return 2;
        }
        try {
            return new TrainCommand(o, out, err, terminal).train(be, train, val);
        } catch (Checkpoint.CheckpointException e) {
            err.println("train: cannot resume: " + e.getMessage());
            return 2;
        } catch (IllegalArgumentException e) {
            err.println("train: " + e.getMessage());
            return 2;
        } catch (ArithmeticException e) {
            err.println("train: " + e.getMessage());
            return 1;
        }
    }

    /**
     * One training run's per-epoch figures. The running loss is the mean over the epoch's batches in training mode
     * (dropout on, weights moving); the training loss is measured after the epoch in evaluation mode on the first
     * {@value #TRAIN_EVAL_EXAMPLES} training examples, so it compares with the validation loss like for like.
     */
    record Epoch(String run, int epoch, double runningLoss, double runningAccuracy, double trainLoss,
                 double trainAccuracy, double valLoss, double valAccuracy, double seconds) {
    }

    /** How many training examples the per-epoch evaluation-mode training loss uses. */
    static final int TRAIN_EVAL_EXAMPLES = 10_000;

    /**
     * The host arrays every run of this invocation trains and evaluates on, made once: labels as float class
     * indices, and the first {@value #TRAIN_EVAL_EXAMPLES} training examples for the evaluation-mode training loss.
     */
    private record Data(IdxDataset train, float[] trainLabels, float[] fitX, float[] fitLabels, IdxDataset val,
                        float[] valLabels) {
        static Data of(IdxDataset train, IdxDataset val) {
            float[] trainLabels = train.labelsAsFloats();
            int fitN = Math.min(TRAIN_EVAL_EXAMPLES, train.size());
            return new Data(train, trainLabels, java.util.Arrays.copyOf(train.images(), fitN * train.features()),
                    java.util.Arrays.copyOf(trainLabels, fitN), val, val.labelsAsFloats());
        }
    }

    /** Every epoch of this invocation's runs so far, written out after each epoch. */
    private final List<Epoch> history = new ArrayList<>();
    private int maskViolations;
    /** The history a resumed invocation found on disk, read once before this invocation rewrites the file. */
    private List<Epoch> previous = List.of();

    int train(Backend be, IdxDataset train, IdxDataset val) throws IOException {
        Files.createDirectories(o.out());
        int classes = Math.max(train.classes(), val.classes());
        out.printf(Locale.ROOT, "backend %s (%s)%n", be.name(), be.device());
        out.printf(Locale.ROOT, "data: %d training and %d validation examples of %d features, %d classes%n",
                train.size(), val.size(), train.features(), classes);
        String title = title(be, train, classes);
        previous = o.resume() ? HistoryCsv.read(o.out().resolve("history.csv")) : List.of();
        Data data = Data.of(train, val);
        int code = run(be, data, classes, o.dropout(), title);
        if (code == 0 && o.compareNoDropout() && o.dropout() > 0f) {
            code = run(be, data, classes, 0f, title);
        }
        out.println();
        summary(data.fitLabels().length);
        out.println("wrote " + o.out().resolve("history.csv") + " and " + o.out().resolve("loss-curves.svg"));
        if (maskViolations > 0) {
            err.println("train: " + maskViolations + " elements that the dropout mask drops were not zero in the "
                    + "forward output: the fused forward and the mask kernel disagree on this backend");
            return 1;
        }
        return code;
    }

    /** history.csv and the plot, rewritten after every epoch so an interrupted run leaves them current. */
    private void writeHistory(String title) throws IOException {
        HistoryCsv.write(o.out().resolve("history.csv"), history);
        TrainingPlot.write(o.out().resolve("loss-curves.svg"), history, title);
    }

    private String title(Backend be, IdxDataset train, int classes) {
        return String.format(Locale.ROOT, "MLP %d-%s-%d on %d examples, %s, %s lr %s, batch %d (%s)",
                train.features(), o.hidden().toString().replaceAll("[\\[\\] ]", "").replace(',', '-'), classes,
                train.size(), TrainOptions.describe(o.activation()), o.optimizer(), o.lr(), o.batch(), be.name());
    }

    /** Trains one model for the remaining epochs; returns 0, or 2 when its checkpoint cannot be resumed. */
    private int run(Backend be, Data data, int classes, float p, String title) throws IOException {
        IdxDataset train = data.train();
        String name = p > 0f ? String.format(Locale.ROOT, "dropout %s", p) : "no dropout";
        Path ckpt = o.out().resolve(p > 0f ? "model.ckpt" : "model-no-dropout.ckpt");
        Sequential.Builder b = Sequential.builder(be, train.features(), o.seed());
        for (int h : o.hidden()) {
            b.dense(h, o.activation(), p);
        }
        try (Sequential model = b.linear(classes).build(); Optimizer opt = optimizer(model)) {
            out.printf(Locale.ROOT, "%n%s: %s, %,d parameters, %s%n", name, architecture(model),
                    model.parameterCount(), opt.describe());
            int batches = (train.size() + o.batch() - 1) / o.batch();
            int start = 0;
            if (o.resume() && Files.isRegularFile(ckpt)) {
                start = (int) Checkpoint.restore(ckpt, model, opt);
                if (opt.steps() != (long) start * batches) {
                    err.printf(Locale.ROOT, "train: cannot resume %s: it took %d optimizer steps in %d epochs, but "
                                    + "%d examples in batches of %d make %d steps per epoch; resume with the --batch "
                                    + "and --limit of the run that wrote it%n", ckpt, opt.steps(), start,
                            train.size(), o.batch(), batches);
                    return 2;
                }
                final int done = start;
                List<Epoch> before = previous.stream().filter(e -> e.run().equals(name) && e.epoch() <= done)
                        .toList();
                if (before.size() != start) {
                    err.printf(Locale.ROOT, "warning: %s has %d of the %d epochs before the resume; the plot has "
                            + "gaps there%n", o.out().resolve("history.csv"), before.size(), start);
                }
                history.addAll(before);
                out.printf(Locale.ROOT, "resumed from %s after %d epochs%n", ckpt, start);
            }
            long live = -1;
            for (int epoch = start; epoch < o.epochs(); epoch++) {
                long t0 = System.nanoTime();
                ProgressBar bar = new ProgressBar(err, terminal,
                        String.format(Locale.ROOT, "epoch %d/%d", epoch + 1, o.epochs()));
                MaskDigest digest = o.maskDigest() ? new MaskDigest() : null;
                int[] order = Training.shuffledOrder(train.size(), o.seed(), epoch);
                Training.EpochResult running = Training.trainEpoch(model, opt, train.images(), data.trainLabels(), order,
                        o.batch(), (done, total, loss) -> {
                            if (digest != null) {
                                digest.addStep(model, Math.min(o.batch(), order.length - (done - 1) * o.batch()));
                            }
                            bar.update(done, total, loss);
                        });
                double trainSeconds = (System.nanoTime() - t0) / 1e9;
                Training.EpochResult fit = Training.evaluate(model, data.fitX(), data.fitLabels(), EVAL_BATCH);
                Training.EpochResult v = Training.evaluate(model, data.val().images(), data.valLabels(), EVAL_BATCH);
                double seconds = (System.nanoTime() - t0) / 1e9;
                history.add(new Epoch(name, epoch + 1, running.loss(), running.accuracy(), fit.loss(),
                        fit.accuracy(), v.loss(), v.accuracy(), seconds));
                String masks = "";
                if (digest != null) {
                    maskViolations += digest.violations();
                    masks = "  masks sha256 " + digest.finish() + (digest.violations() == 0
                            ? " (forward agrees)" : " (" + digest.violations() + " dropped elements not zero!)");
                }
                out.printf(Locale.ROOT, "epoch %3d/%d  running loss %.4f  train loss %.4f acc %5.2f%%  "
                                + "val loss %.4f acc %5.2f%%  %.1f s (%.0f examples/s)%s%n", epoch + 1, o.epochs(),
                        running.loss(), fit.loss(), 100 * fit.accuracy(), v.loss(), 100 * v.accuracy(), seconds,
                        train.size() / trainSeconds, masks);
                out.flush();
                writeHistory(title);
                Checkpoint.save(ckpt, model, opt, epoch + 1);
                // The first epoch leaves gradients and cached activations behind; after that the count holds still.
                if (live >= 0 && Tensor.liveCount() != live) {
                    err.printf(Locale.ROOT, "warning: %+d live tensors after epoch %d compared with the epoch "
                            + "before: a leak%n", Tensor.liveCount() - live, epoch + 1);
                }
                live = Tensor.liveCount();
            }
            writeHistory(title);
        }
        return 0;
    }

    /** {@code 784 -> 512 (relu, dropout 0.5) -> ... -> 10 (linear)}: the shape of the model at a glance. */
    private static String architecture(Sequential model) {
        StringBuilder sb = new StringBuilder().append(model.inFeatures());
        for (dev.fuse4j.nn.Layer l : model.layers()) {
            sb.append(" -> ").append(l.outFeatures());
            if (l instanceof dev.fuse4j.nn.Dense d) {
                String act = TrainOptions.describe(d.activation());
                sb.append(d.dropoutP() > 0f ? String.format(Locale.ROOT, " (%s, dropout %s)", act, d.dropoutP())
                        : " (" + act + ")");
            }
        }
        return sb.toString();
    }

    private Optimizer optimizer(Sequential model) {
        return o.optimizer().equals("sgd") ? new Sgd(model.parameters(), o.lr(), o.momentum(), o.weightDecay())
                : new Adam(model.parameters(), o.lr(), 0.9f, 0.999f, 1e-8f, o.weightDecay());
    }

    private void summary(int trainEvalExamples) {
        out.printf(Locale.ROOT, "%-14s %6s %11s %11s %9s %14s %12s%n", "run", "epochs", "train loss", "val loss",
                "val acc", "best val acc", "loss gap");
        for (String run : history.stream().map(Epoch::run).distinct().toList()) {
            List<Epoch> rs = history.stream().filter(e -> e.run().equals(run)).toList();
            Epoch last = rs.get(rs.size() - 1);
            Epoch best = rs.stream().max((a, b) -> Double.compare(a.valAccuracy(), b.valAccuracy())).orElseThrow();
            out.printf(Locale.ROOT, "%-14s %6d %11.4f %11.4f %8.2f%% %8.2f%% (%2d) %+12.4f%n", run, last.epoch(),
                    last.trainLoss(), last.valLoss(), 100 * last.valAccuracy(), 100 * best.valAccuracy(),
                    best.epoch(), last.valLoss() - last.trainLoss());
        }
        out.println("train loss: evaluation mode on the first " + trainEvalExamples + " training examples; "
                + "loss gap = val loss - train loss at the last epoch: how far the model overfits");
    }
}
