package dev.fuse4j.bench.train;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendUnavailableException;
import dev.fuse4j.Backends;
import dev.fuse4j.bench.cli.CliArgs;
import dev.fuse4j.bench.cli.ExitCode;
import dev.fuse4j.nn.Adam;
import dev.fuse4j.nn.Checkpoint;
import dev.fuse4j.nn.Dense;
import dev.fuse4j.nn.Layer;
import dev.fuse4j.nn.Optimizer;
import dev.fuse4j.nn.Sequential;
import dev.fuse4j.nn.Sgd;
import dev.fuse4j.nn.Training;
import dev.fuse4j.nn.export.ModelExport;

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
 * {@code --compare-no-dropout} the same model is also trained without dropout, to show the gap dropout closes, and
 * each {@code --compare-with OPTIONS} trains one more run with those options, plotted beside the others.
 * Progress goes to stderr, the epoch lines and the summary to stdout.
 */
public final class TrainCommand {
    private static final int EVAL_BATCH = 1000;
    /** Adam's betas and eps, those of {@code torch.optim.Adam}; a PyTorch run of the same step uses them too. */
    public static final float ADAM_BETA1 = 0.9f;
    public static final float ADAM_BETA2 = 0.999f;
    public static final float ADAM_EPS = 1e-8f;

    private final TrainOptions o;
    private final List<TrainRuns.Variant> variants;
    private final PrintStream out;
    private final PrintStream err;
    private final boolean terminal;
    /** Every epoch of this invocation's runs so far, written out after each epoch. */
    private final List<Epoch> history = new ArrayList<>();
    private int maskViolations;
    /** The history a resumed invocation found on disk, read once before this invocation rewrites the file. */
    private List<Epoch> previous = List.of();

    TrainCommand(TrainRuns runs, PrintStream out, PrintStream err, boolean terminal) {
        this.o = runs.base();
        this.variants = runs.variants();
        this.out = out;
        this.err = err;
        this.terminal = terminal;
    }

    public static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        return run(args, out, err, Terminal.stderrIsTerminal());
    }

    /** Runs the command; returns the {@link ExitCode}: FAILED when training diverged, USAGE for bad input. */
    static int run(String[] args, PrintStream out, PrintStream err, boolean terminal) throws IOException {
        TrainRuns runs;
        try {
            runs = TrainRuns.parse(args);
        } catch (CliArgs.HelpRequested | CliArgs.VersionRequested | IllegalArgumentException e) {
            return CliArgs.stopped(e, "train", TrainOptions.USAGE, out, err);
        }
        TrainOptions o = runs.base();
        Backend be;
        IdxDataset train;
        IdxDataset val;
        try {
            be = o.backend() != null ? Backends.get(o.backend()) : Backends.select();
            train = IdxDataset.load(o.trainImages(), o.trainLabels(), o.trainLimit());
            val = IdxDataset.load(o.valImages(), o.valLabels());
        } catch (BackendUnavailableException | IllegalArgumentException | IOException e) {
            err.println("train: " + e.getMessage());
            return ExitCode.USAGE;
        }
        if (train.features() != val.features()) {
            err.println("train: training images have " + train.features() + " pixels but validation images "
                    + val.features());
            return ExitCode.USAGE;
        }
        try {
            return new TrainCommand(runs, out, err, terminal).train(be, train, val);
        } catch (Checkpoint.CheckpointException e) {
            err.println("train: cannot resume: " + e.getMessage());
            return ExitCode.USAGE;
        } catch (Resume.Mismatch | IllegalArgumentException e) {
            err.println("train: " + e.getMessage());
            return ExitCode.USAGE;
        } catch (ArithmeticException e) {
            err.println("train: " + e.getMessage());
            return ExitCode.FAILED;
        }
    }

    int train(Backend be, IdxDataset train, IdxDataset val) throws IOException, Resume.Mismatch {
        Files.createDirectories(o.out());
        int classes = Math.max(train.classes(), val.classes());
        out.printf(Locale.ROOT, "backend %s (%s)%n", be.name(), be.device());
        out.printf(Locale.ROOT, "data: %d training and %d validation examples of %d features, %d classes%n",
                train.size(), val.size(), train.features(), classes);
        String title = title(be, train, classes);
        previous = o.resume() ? HistoryCsv.read(historyFile()) : List.of();
        TrainingData data = TrainingData.of(train, val);
        run(be, data, classes, o, o.dropout(), o.inputDropout(),
                TrainRuns.runName(o, o.dropout(), o.inputDropout()), "model.ckpt", title);
        if (o.compareNoDropout() && (o.dropout() > 0f || o.inputDropout() > 0f)) {
            run(be, data, classes, o, 0f, 0f, TrainRuns.runName(o, 0f, 0f), "model-no-dropout.ckpt", title);
        }
        for (TrainRuns.Variant v : variants) {
            run(be, data, classes, v.options(), v.options().dropout(), v.options().inputDropout(), v.name(),
                    TrainRuns.checkpointName(v), title);
        }
        out.println();
        SummaryTable.print(out, history, data.fitLabels().length);
        out.println("wrote " + historyFile() + " and " + o.out().resolve("loss-curves.svg"));
        if (maskViolations > 0) {
            err.println("train: " + maskViolations + " elements that the dropout mask drops were not zero in the "
                    + "forward output (under DropConnect: weights whose gradient was not zero): the fused kernels and "
                    + "the mask kernel disagree on this backend");
            return ExitCode.FAILED;
        }
        return ExitCode.OK;
    }

    /**
     * Trains one model with {@code ro}, the run's options, hidden-layer dropout {@code p} and input dropout
     * {@code inputP}, for the epochs its checkpoint has not done yet.
     */
    private void run(Backend be, TrainingData data, int classes, TrainOptions ro, float p, float inputP, String name,
                     String checkpoint, String title) throws IOException, Resume.Mismatch {
        IdxDataset train = data.train();
        Path ckpt = o.out().resolve(checkpoint);
        // The model asked for is the one trained with the options as given, not a comparison run.
        boolean asked = ro == o && p == o.dropout() && inputP == o.inputDropout();
        try (Sequential model = model(be, ro, train.features(), classes, p, inputP);
             Optimizer opt = optimizer(ro, model)) {
            out.printf(Locale.ROOT, "%n%s: %s, %,d parameters, %s%n", name, architecture(model),
                    model.parameterCount(), opt.describe());
            int start = 0;
            if (o.resume() && Files.isRegularFile(ckpt)) {
                start = Resume.restore(ckpt, model, opt, train.size(), ro.batch());
                history.addAll(Resume.earlierEpochs(previous, name, start, historyFile(), err));
                out.printf(Locale.ROOT, "resumed from %s after %d epochs%n", ckpt, start);
            }
            LeakWatch leaks = new LeakWatch(err);
            for (int epoch = start; epoch < ro.epochs(); epoch++) {
                epoch(model, opt, ro, data, name, epoch);
                writeHistory(title);
                Checkpoint.save(ckpt, model, opt, epoch + 1);
                leaks.afterEpoch(epoch + 1);
            }
            writeHistory(title);
            if (o.mcSamples() > 0 && asked) {
                reportUncertainty(model, data);
            }
            if (o.export() != null && asked) {
                export(model);
            }
        }
    }

    /**
     * MC dropout over the validation set ({@code --mc-samples}): the mean per-class variance of the softmax outputs,
     * and the accuracy of their mean beside the deterministic (evaluation-mode) accuracy.
     */
    private void reportUncertainty(Sequential model, TrainingData data) {
        float[] x = data.val().images();
        Training.UncertaintyResult mc = Training.evaluateWithUncertainty(model, x, data.valLabels(), EVAL_BATCH,
                o.mcSamples(), o.seed());
        Training.EpochResult plain = Training.evaluate(model, x, data.valLabels(), EVAL_BATCH);
        out.printf(Locale.ROOT, "MC dropout, %d samples over %d validation examples: mean per-class variance %.6f, "
                        + "accuracy of the MC mean %.2f%% (deterministic %.2f%%)%n", o.mcSamples(), mc.examples(),
                mc.meanVariance(), 100 * mc.accuracy(), 100 * plain.accuracy());
    }

    /** Writes {@code model} into {@code --export}'s folder as ONNX and safetensors, and says where. */
    private void export(Sequential model) {
        Path onnx = o.export().resolve("model.onnx");
        Path safetensors = o.export().resolve("model.safetensors");
        try {
            ModelExport.onnx(model, onnx);
            ModelExport.safetensors(model, safetensors);
        } catch (IOException e) {
            // Said as a bad --export (exit 2); the checkpoints of the finished training are already saved.
            throw new IllegalArgumentException(e.getMessage() + " (the checkpoints in " + o.out() + " are saved)", e);
        }
        out.printf(Locale.ROOT, "exported the trained model to %s (ONNX opset %d) and %s%n", onnx,
                ModelExport.DEFAULT_OPSET, safetensors);
    }

    /** One epoch of training, then the evaluation-mode losses, one line on stdout and one row of history. */
    private void epoch(Sequential model, Optimizer opt, TrainOptions ro, TrainingData data, String name, int epoch) {
        IdxDataset train = data.train();
        long t0 = System.nanoTime();
        ProgressBar bar = new ProgressBar(err, terminal, String.format(Locale.ROOT, "epoch %d/%d", epoch + 1,
                ro.epochs()));
        MaskDigest digest = o.maskDigest() ? new MaskDigest() : null;
        int[] order = Training.shuffledOrder(train.size(), ro.seed(), epoch);
        Training.EpochResult running = Training.trainEpoch(model, opt, train.images(), data.trainLabels(), order,
                ro.batch(), (done, total, loss) -> {
                    if (digest != null) {
                        digest.addStep(model, Math.min(ro.batch(), order.length - (done - 1) * ro.batch()));
                    }
                    bar.update(done, total, loss);
                });
        double trainSeconds = (System.nanoTime() - t0) / 1e9;
        Training.EpochResult fit = Training.evaluate(model, data.fitX(), data.fitLabels(), EVAL_BATCH);
        Training.EpochResult v = Training.evaluate(model, data.val().images(), data.valLabels(), EVAL_BATCH);
        double seconds = (System.nanoTime() - t0) / 1e9;
        history.add(new Epoch(name, epoch + 1, running.loss(), running.accuracy(), fit.loss(), fit.accuracy(),
                v.loss(), v.accuracy(), seconds));
        String masks = "";
        if (digest != null) {
            maskViolations += digest.violations();
            masks = "  masks sha256 " + digest.finish() + (digest.violations() == 0
                    ? " (forward agrees)" : " (" + digest.violations() + " dropped elements not zero!)");
        }
        out.printf(Locale.ROOT, "epoch %3d/%d  running loss %.4f  train loss %.4f acc %5.2f%%  "
                        + "val loss %.4f acc %5.2f%%  %.1f s (%.0f examples/s)%s%n", epoch + 1, ro.epochs(),
                running.loss(), fit.loss(), 100 * fit.accuracy(), v.loss(), 100 * v.accuracy(), seconds,
                train.size() / trainSeconds, masks);
        out.flush();
    }

    /** history.csv and the plot, rewritten after every epoch so an interrupted run leaves them current. */
    private void writeHistory(String title) throws IOException {
        HistoryCsv.write(historyFile(), history);
        TrainingPlot.write(o.out().resolve("loss-curves.svg"), history, title);
    }

    private Path historyFile() {
        return o.out().resolve("history.csv");
    }

    private String title(Backend be, IdxDataset train, int classes) {
        return String.format(Locale.ROOT, "MLP %d-%s-%d on %d examples, %s, %s lr %s, batch %d (%s)",
                train.features(), o.hidden().toString().replaceAll("[\\[\\] ]", "").replace(',', '-'), classes,
                train.size(), TrainOptions.describe(o.activation()), o.optimizer(), o.lr(), o.batch(), be.name());
    }

    /** {@code 784 -> 512 (relu, dropout 0.5) -> ... -> 10 (linear)}: the shape of the model at a glance. */
    private static String architecture(Sequential model) {
        StringBuilder sb = new StringBuilder().append(model.inFeatures());
        if (model.layers().get(0) instanceof Dense first && first.inputDropoutP() > 0f) {
            sb.append(String.format(Locale.ROOT, " (input dropout %s)", first.inputDropoutP()));
        }
        for (Layer l : model.layers()) {
            sb.append(" -> ").append(l.outFeatures());
            if (l instanceof Dense d) {
                String act = TrainOptions.describe(d.activation()) + (d.batchNorm() != null ? ", batch norm" : "");
                String mode = d.dropoutMode().plain() ? "" : " " + d.dropoutMode().spelling();
                sb.append(d.dropoutP() > 0f ? String.format(Locale.ROOT, " (%s, %s %s%s)", act,
                        d.dropConnect() ? "dropconnect" : "dropout", d.dropoutP(), mode) : " (" + act + ")");
            }
        }
        return sb.toString();
    }

    /**
     * The MLP train builds: a dense layer per hidden width with the options' activation and dropout {@code p} (on
     * the weights with {@code --dropconnect}; batch norm before the activation with {@code --batch-norm}), then a
     * linear layer of {@code classes} outputs; the training-step benchmark builds the same.
     */
    public static Sequential model(Backend be, TrainOptions o, int features, int classes, float p) {
        return model(be, o, features, classes, p, o.inputDropout());
    }

    /** As above, the first layer dropping input features with {@code inputP} in training. */
    static Sequential model(Backend be, TrainOptions o, int features, int classes, float p, float inputP) {
        Sequential.Builder b = Sequential.builder(be, features, o.seed()).inputDropout(inputP);
        for (int h : o.hidden()) {
            if (o.dropConnect()) {
                b.denseDropConnect(h, o.activation(), p);
            } else if (o.batchNorm()) {
                b.denseBatchNorm(h, o.activation(), p, o.dropoutMode());
            } else {
                b.dense(h, o.activation(), p, o.dropoutMode());
            }
        }
        return b.linear(classes).build();
    }

    /** The optimizer train steps the model with: SGD, or Adam with the betas and eps above. */
    public static Optimizer optimizer(TrainOptions o, Sequential model) {
        return o.optimizer().equals("sgd") ? new Sgd(model.parameters(), o.lr(), o.momentum(), o.weightDecay())
                : new Adam(model.parameters(), o.lr(), ADAM_BETA1, ADAM_BETA2, ADAM_EPS, o.weightDecay());
    }
}
