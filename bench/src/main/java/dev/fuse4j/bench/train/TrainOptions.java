package dev.fuse4j.bench.train;

import dev.fuse4j.Activation;
import dev.fuse4j.bench.cli.CliArgs;
import dev.fuse4j.nn.DropoutMode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static dev.fuse4j.bench.cli.CliArgs.parseDouble;
import static dev.fuse4j.bench.cli.CliArgs.parseInt;
import static dev.fuse4j.bench.cli.CliArgs.parseLong;
import static dev.fuse4j.bench.cli.CliArgs.path;
import static dev.fuse4j.bench.cli.CliArgs.value;

/**
 * Command-line options of {@code train}, checked with messages that name the bad value.
 *
 * @param trainLimit    train on the first this many examples only (0: all)
 * @param compareNoDropout also train the same model without dropout, to show the gap dropout closes
 * @param maskDigest    print a digest of every training step's dropout masks per epoch, to compare backends
 * @param export        where the trained model goes as ONNX and safetensors files, or null for nowhere
 * @param dropConnect   whether {@code dropout} masks the hidden layers' weights (DropConnect) instead of their outputs
 * @param batchNorm     batch normalisation in every hidden layer, between its GEMM and its activation
 * @param dropoutMode   how the hidden layers' dropout shares its draws (plain, channel, variational)
 * @param inputDropout  dropout of the input features in training, by the first layer (0: none)
 * @param mcSamples     after training, MC dropout passes over the validation set for its predictive uncertainty
 *                      (0: none)
 */
public record TrainOptions(Path trainImages, Path trainLabels, Path valImages, Path valLabels, List<Integer> hidden,
                           Activation activation, float dropout, int epochs, int batch, String optimizer, float lr,
                           float momentum, float weightDecay, long seed, int trainLimit, boolean compareNoDropout,
                           boolean maskDigest, boolean resume, String backend, Path out, Path export,
                           boolean dropConnect, boolean batchNorm, DropoutMode dropoutMode, float inputDropout,
                           int mcSamples) {

    /** Where Debian's {@code dataset-fashion-mnist} package puts the files. */
    public static final Path DEBIAN_FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

    public static final String USAGE = """
            usage: ./fuse4j train [options]
            Trains an MLP on MNIST-format IDX files (plain or .gz); by default Fashion-MNIST from Debian's
            dataset-fashion-mnist package (apt-get install dataset-fashion-mnist), files in
            /usr/share/datasets/fashion-mnist. The t10k files are the validation set.
              --data DIR            folder with train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
                                    t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]
              --train-images F, --train-labels F, --val-images F, --val-labels F
                                    the four files one by one (override --data)
              --preset NAME         a network of the notes: hidden layers, dropout and batch, which the
                                    options below override (default: default)
            %PRESETS%
              --hidden LIST         hidden layer widths (default 512,512)
              --activation A        relu, leaky_relu[:SLOPE] (default slope 0.01), gelu, elu[:ALPHA]
                                    (default alpha 1) or prelu (learned slopes from 0.25); default relu
              --dropout P           dropout of the hidden layers in training, in [0, 1) (default 0.2)
              --dropconnect P       DropConnect instead: each weight of the hidden layers dropped with
                                    probability P in training, in [0, 1); their outputs are not masked
              --batch-norm          batch normalisation in every hidden layer, before its activation
                                    (PyTorch's BatchNorm1d: eps 1e-5, momentum 0.1)
              --dropout-mode M      how the hidden layers' masks share draws: plain (default), channel:F
                                    (whole channels of F features, F dividing every width), variational:S
                                    (one mask per sequence and feature, rows time-major in steps of S), or
                                    channel:F+variational:S
              --input-dropout P     dropout of the input features in training, in [0, 1) (default 0; the
                                    notes suggest 0.1-0.2)
              --mc-samples T        after training, T passes with dropout on over the validation set (MC
                                    dropout, seeded by --seed): the mean per-class variance of the softmax and
                                    the accuracy of the mean beside the deterministic one (default: none)
              --epochs N            (default 20)
              --batch N             mini-batch size (default 128)
              --optimizer NAME      adam or sgd (default adam)
              --lr LR               learning rate (default 0.001 for adam, 0.05 for sgd)
              --momentum M          SGD momentum (default 0.9)
              --weight-decay WD     L2 weight decay (default 0)
              --seed S              seeds initialisation, shuffling and dropout masks (default 1)
              --limit N             train on the first N examples only (default: all)
              --compare-no-dropout  also train the same model with dropout 0 and plot both runs
              --compare-with OPTS   also train a run with these options added (e.g. '--activation elu'), plotted
                                    beside the others; give it once per run to compare
              --mask-digest         print a SHA-256 of each epoch's dropout masks (equal on every backend)
              --resume              continue from the checkpoints in --out
              --backend NAME        cpu, opencl, opencl:1, cuda... (default: -Dfuse4j.backend, FUSE4J_BACKEND,
                                    else the first available)
              --out DIR             history.csv, loss-curves.svg and checkpoints (default fuse4j-out/train)
              --export DIR          after training, write the model (evaluation mode, no dropout) as
                                    DIR/model.onnx (ONNX opset 17) and DIR/model.safetensors (PyTorch)
              --version             the Fuse4J version, JDK and OS
              -h, --help            this text
            an option's value follows it as the next word or after '=': --out DIR or --out=DIR
            exit status: 0 when training finished, 1 when it diverged, 2 for bad options, data or checkpoints
            """.replace("%PRESETS%", Preset.listing());

    public static TrainOptions parse(String... args) {
        Path data = DEBIAN_FASHION_MNIST;
        Path[] files = new Path[4];
        List<Integer> hidden = List.of(512, 512);
        Activation act = Activation.relu();
        float dropout = 0.2f;
        int epochs = 20;
        int batch = 128;
        String opt = "adam";
        Float lr = null;
        float momentum = 0.9f;
        float wd = 0f;
        long seed = 1;
        int limit = 0;
        boolean noDropout = false;
        boolean digest = false;
        boolean resume = false;
        String backend = null;
        Path out = Path.of("fuse4j-out", "train");
        Path export = null;
        boolean dropConnect = false;
        boolean dropoutGiven = false;
        boolean batchNorm = false;
        DropoutMode mode = DropoutMode.PLAIN;
        float inputDropout = 0f;
        int mcSamples = 0;
        args = CliArgs.splitInline(args, Set.of("--compare-no-dropout", "--mask-digest", "--resume", "--batch-norm"));
        // A preset sets defaults; the options given beside it win, wherever they stand.
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--preset")) {
                Preset preset = Preset.named(value(args, i + 1, "--preset"));
                hidden = preset.hidden();
                dropout = preset.dropout();
                batch = preset.batch();
            }
        }
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--data" -> data = path(value(args, ++i, a), a);
                case "--train-images" -> files[0] = path(value(args, ++i, a), a);
                case "--train-labels" -> files[1] = path(value(args, ++i, a), a);
                case "--val-images" -> files[2] = path(value(args, ++i, a), a);
                case "--val-labels" -> files[3] = path(value(args, ++i, a), a);
                case "--preset" -> i++; // applied above
                case "--hidden" -> hidden = widths(value(args, ++i, a));
                case "--activation" -> act = activation(value(args, ++i, a));
                case "--dropout", "--dropconnect" -> {
                    String v = value(args, ++i, a);
                    dropout = (float) parseDouble(v, a);
                    if (!(dropout >= 0f && dropout < 1f)) {
                        throw new IllegalArgumentException(a + " must be in [0, 1) but is '" + v + "'");
                    }
                    if (a.equals("--dropout") ? dropConnect : dropoutGiven) {
                        throw new IllegalArgumentException("--dropout and --dropconnect cannot both be given: a hidden "
                                + "layer's mask falls on its outputs or on its weights");
                    }
                    dropConnect = a.equals("--dropconnect");
                    dropoutGiven = !dropConnect;
                }
                case "--dropout-mode" -> mode = dropoutMode(value(args, ++i, a));
                case "--input-dropout" -> {
                    String v = value(args, ++i, a);
                    inputDropout = (float) parseDouble(v, a);
                    if (!(inputDropout >= 0f && inputDropout < 1f)) {
                        throw new IllegalArgumentException("--input-dropout must be in [0, 1) but is '" + v + "'");
                    }
                }
                case "--mc-samples" -> mcSamples = parseInt(value(args, ++i, a), a, 1);
                case "--epochs" -> epochs = parseInt(value(args, ++i, a), a, 1);
                case "--batch" -> batch = parseInt(value(args, ++i, a), a, 1);
                case "--optimizer" -> {
                    opt = value(args, ++i, a).trim().toLowerCase(Locale.ROOT);
                    if (!opt.equals("adam") && !opt.equals("sgd")) {
                        throw new IllegalArgumentException("--optimizer must be adam or sgd, not '" + opt + "'");
                    }
                }
                case "--lr" -> lr = positive(value(args, ++i, a), a);
                case "--momentum" -> {
                    String v = value(args, ++i, a);
                    momentum = (float) parseDouble(v, a);
                    if (!(momentum >= 0f && momentum < 1f)) {
                        throw new IllegalArgumentException("--momentum must be in [0, 1) but is '" + v + "'");
                    }
                }
                case "--weight-decay" -> {
                    String v = value(args, ++i, a);
                    wd = (float) parseDouble(v, a);
                    if (!(wd >= 0f && Float.isFinite(wd))) {
                        throw new IllegalArgumentException("--weight-decay must be a finite number >= 0 but is '"
                                + v + "'");
                    }
                }
                case "--seed" -> seed = parseLong(value(args, ++i, a), a);
                case "--limit" -> limit = parseInt(value(args, ++i, a), a, 1);
                case "--compare-no-dropout" -> noDropout = true;
                case "--mask-digest" -> digest = true;
                case "--resume" -> resume = true;
                case "--batch-norm" -> batchNorm = true;
                case "--backend" -> backend = value(args, ++i, a).trim();
                case "--out" -> out = path(value(args, ++i, a), a);
                case "--export" -> export = exportFolder(path(value(args, ++i, a), a));
                default -> throw CliArgs.unknown(a);
            }
        }
        String[] names = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte"};
        for (int f = 0; f < 4; f++) {
            if (files[f] == null) {
                files[f] = inFolder(data, names[f]);
            }
        }
        if (batchNorm && dropConnect) {
            throw new IllegalArgumentException("--batch-norm and --dropconnect cannot both be given: DropConnect masks "
                    + "the weights of the GEMM whose output batch norm then renormalises");
        }
        if (dropConnect && !mode.plain()) {
            throw new IllegalArgumentException("--dropout-mode " + mode.spelling() + " cannot be given with "
                    + "--dropconnect: channel and variational dropout shape output masks, DropConnect masks weights");
        }
        if (batchNorm && act.kind() == Activation.Kind.PRELU) {
            throw new IllegalArgumentException("--batch-norm cannot be given with --activation prelu: batch norm's "
                    + "activation pass has no per-feature slopes");
        }
        float learningRate = lr != null ? lr : opt.equals("adam") ? 1e-3f : 0.05f;
        return new TrainOptions(files[0], files[1], files[2], files[3], hidden, act, dropout, epochs, batch, opt,
                learningRate, momentum, wd, seed, limit, noDropout, digest, resume, backend, out, export, dropConnect,
                batchNorm, mode, inputDropout, mcSamples);
    }

    private static DropoutMode dropoutMode(String v) {
        try {
            return DropoutMode.parse(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--dropout-mode: " + e.getMessage(), e);
        }
    }

    /** {@code dir}, refused before any training when something other than a folder is in its place. */
    private static Path exportFolder(Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--export needs a folder, but " + dir + " is a file");
        }
        return dir;
    }

    /** The plain file when it exists, else the .gz beside it (the name the error then reports). */
    private static Path inFolder(Path dir, String name) {
        Path plain = dir.resolve(name);
        return Files.exists(plain) ? plain : dir.resolve(name + ".gz");
    }

    private static List<Integer> widths(String v) {
        List<Integer> w = new ArrayList<>();
        for (String s : CliArgs.list(v, "--hidden")) {
            w.add(parseInt(s, "--hidden", 1));
        }
        return List.copyOf(w);
    }

    static Activation activation(String v) {
        String s = v.trim().toLowerCase(Locale.ROOT);
        if (s.equals("relu")) {
            return Activation.relu();
        }
        if (s.equals("gelu")) {
            return Activation.gelu();
        }
        if (s.equals("leaky_relu") || s.equals("leaky-relu")) {
            return Activation.leakyRelu(0.01f);
        }
        if (s.startsWith("leaky_relu:") || s.startsWith("leaky-relu:")) {
            return Activation.leakyRelu((float) parseDouble(s.substring(s.indexOf(':') + 1), "--activation slope"));
        }
        if (s.equals("elu")) {
            return Activation.elu();
        }
        if (s.startsWith("elu:")) {
            return Activation.elu((float) parseDouble(s.substring(s.indexOf(':') + 1), "--activation alpha"));
        }
        if (s.equals("prelu")) {
            return Activation.prelu();
        }
        throw new IllegalArgumentException("--activation must be relu, leaky_relu[:SLOPE], gelu, elu[:ALPHA] or "
                + "prelu, not '" + v + "'");
    }

    /** The option spelling of {@code a}, as {@code --activation} takes it. */
    static String describe(Activation a) {
        return switch (a.kind()) {
            case RELU -> "relu";
            case GELU -> "gelu";
            case LEAKY_RELU -> "leaky_relu:" + a.alpha();
            case IDENTITY -> "identity";
            case ELU -> "elu:" + a.alpha();
            case PRELU -> "prelu";
        };
    }

    private static float positive(String v, String option) {
        double d = parseDouble(v, option);
        // Checked as the float it becomes: 1e-46 is a positive double but 0 as a float.
        if (!((float) d > 0f && Float.isFinite((float) d))) {
            throw new IllegalArgumentException(option + " must be a positive number but is '" + v + "'");
        }
        return (float) d;
    }
}
