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
        return run(args, System.out, System.err, System.console() != null);
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
        } catch (ArithmeticException e) {
            err.println("train: " + e.getMessage());
            return 1;
        }
    }

    /** One training run's per-epoch figures. */
    record Epoch(String run, int epoch, double trainLoss, double trainAccuracy, double valLoss,
                 double valAccuracy, double seconds) {
    }

    int train(Backend be, IdxDataset train, IdxDataset val) throws IOException {
        Files.createDirectories(o.out());
        int classes = Math.max(train.classes(), val.classes());
        out.printf(Locale.ROOT, "backend %s (%s)%n", be.name(), be.device());
        out.printf(Locale.ROOT, "data: %d training and %d validation examples of %d features, %d classes%n",
                train.size(), val.size(), train.features(), classes);
        List<Epoch> history = new ArrayList<>();
        history.addAll(run(be, train, val, classes, o.dropout()));
        if (o.compareNoDropout() && o.dropout() > 0f) {
            history.addAll(run(be, train, val, classes, 0f));
        }
        Path csv = o.out().resolve("history.csv");
        HistoryCsv.write(csv, history);
        Path svg = o.out().resolve("loss-curves.svg");
        TrainingPlot.write(svg, history, title(be, train));
        out.println();
        summary(history);
        out.println("wrote " + csv + " and " + svg);
        return 0;
    }

    private String title(Backend be, IdxDataset train) {
        return String.format(Locale.ROOT, "MLP %d-%s-10 on %d examples, %s, %s lr %s, batch %d (%s)",
                train.features(), o.hidden().toString().replaceAll("[\\[\\] ]", "").replace(',', '-'),
                train.size(), TrainOptions.describe(o.activation()), o.optimizer(), o.lr(), o.batch(), be.name());
    }

    private List<Epoch> run(Backend be, IdxDataset train, IdxDataset val, int classes, float p) throws IOException {
        String name = p > 0f ? String.format(Locale.ROOT, "dropout %s", p) : "no dropout";
        Path ckpt = o.out().resolve(p > 0f ? "model.ckpt" : "model-no-dropout.ckpt");
        Sequential.Builder b = Sequential.builder(be, train.features(), o.seed());
        for (int h : o.hidden()) {
            b.dense(h, o.activation(), p);
        }
        List<Epoch> rows = new ArrayList<>();
        try (Sequential model = b.linear(classes).build(); Optimizer opt = optimizer(model)) {
            out.printf(Locale.ROOT, "%n%s: %s, %,d parameters, %s%n", name, architecture(model),
                    model.parameterCount(), opt.describe());
            int start = 0;
            if (o.resume() && Files.exists(ckpt)) {
                start = (int) Checkpoint.restore(ckpt, model, opt);
                rows.addAll(HistoryCsv.read(o.out().resolve("history.csv"), name, start));
                out.printf(Locale.ROOT, "resumed from %s after %d epochs%n", ckpt, start);
            }
            float[] trainLabels = train.labelsAsFloats();
            float[] valLabels = val.labelsAsFloats();
            long live = -1;
            for (int epoch = start; epoch < o.epochs(); epoch++) {
                long t0 = System.nanoTime();
                ProgressBar bar = new ProgressBar(err, terminal,
                        String.format(Locale.ROOT, "epoch %d/%d", epoch + 1, o.epochs()));
                MaskDigest digest = o.maskDigest() ? new MaskDigest() : null;
                int[] order = Training.shuffledOrder(train.size(), o.seed(), epoch);
                Training.EpochResult tr = Training.trainEpoch(model, opt, train.images(), trainLabels, order,
                        o.batch(), (done, total, loss) -> {
                            if (digest != null) {
                                digest.addStep(model, Math.min(o.batch(), order.length - (done - 1) * o.batch()));
                            }
                            bar.update(done, total, loss);
                        });
                double trainSeconds = (System.nanoTime() - t0) / 1e9;
                Training.EpochResult v = Training.evaluate(model, val.images(), valLabels, EVAL_BATCH);
                double seconds = (System.nanoTime() - t0) / 1e9;
                Epoch row = new Epoch(name, epoch + 1, tr.loss(), tr.accuracy(), v.loss(), v.accuracy(), seconds);
                rows.add(row);
                out.printf(Locale.ROOT, "epoch %3d/%d  train loss %.4f acc %5.2f%%  val loss %.4f acc %5.2f%%  "
                                + "%.1f s (%.0f examples/s)%s%n", epoch + 1, o.epochs(), tr.loss(),
                        100 * tr.accuracy(), v.loss(), 100 * v.accuracy(), seconds, train.size() / trainSeconds,
                        digest != null ? "  masks sha256 " + digest.finish() : "");
                out.flush();
                Checkpoint.save(ckpt, model, opt, epoch + 1);
                // The first epoch leaves gradients and cached activations behind; after that the count holds still.
                if (live >= 0 && Tensor.liveCount() != live) {
                    err.printf(Locale.ROOT, "warning: %+d live tensors after epoch %d compared with the epoch "
                            + "before: a leak%n", Tensor.liveCount() - live, epoch + 1);
                }
                live = Tensor.liveCount();
            }
        }
        return rows;
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

    private void summary(List<Epoch> history) {
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
        out.println("loss gap = validation loss - training loss at the last epoch: how far the model overfits");
    }
}
