package dev.fuse4j.spark;

import dev.fuse4j.bench.cli.CliArgs;
import dev.fuse4j.bench.cli.ExitCode;
import dev.fuse4j.bench.train.IdxDataset;
import dev.fuse4j.bench.train.TrainOptions;
import dev.fuse4j.nn.Adam;
import dev.fuse4j.nn.Optimizer;
import dev.fuse4j.nn.Parameter;
import dev.fuse4j.nn.Sgd;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * {@code ./fuse4j spark-train}: trains the MLP of {@code ./fuse4j train} (Fashion-MNIST by default) with
 * {@link SparkTrainer}, on an embedded {@code local[*]} Spark unless {@code --master} names a cluster, then scores
 * the validation set on the executors with {@link SparkScoring}. It takes {@code train}'s data, model and
 * optimizer options, and its checkpoint goes to {@code --out}.
 */
public final class SparkTrainCommand {

    static final String USAGE = """
            usage: ./fuse4j spark-train [options]
            Trains ./fuse4j train's MLP data-parallel on Apache Spark, then scores the validation set there.
              --master URL      Spark master (default: spark.master if set, else local[*], Spark in this JVM)
              --slices N        slices per batch: Spark tasks per step (default: Spark's default parallelism)
              --partitions N    partitions of the input (default: as --slices)
              --resume          continue from the checkpoint in --out (without it a run starts afresh)
            and of ./fuse4j train's options: --data, --train-images, --train-labels, --val-images, --val-labels,
            --preset, --hidden, --activation, --dropout, --epochs, --batch, --optimizer, --lr, --momentum,
            --weight-decay, --seed, --limit, --backend (the backend of the driver and of every task; default:
            each JVM's own choice) and --out (default fuse4j-out/spark-train)
            exit status: 0 when training finished, 1 when it diverged, 2 for bad options or data
            """;

    private SparkTrainCommand() {
    }

    public static void main(String[] args) throws IOException {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        String master = null;
        int slices = 0;
        int partitions = 0;
        boolean resume = false;
        List<String> trainArgs = new ArrayList<>(List.of("--out", Path.of("fuse4j-out", "spark-train").toString()));
        TrainOptions o;
        try {
            args = CliArgs.splitInline(args, java.util.Set.of("--resume"));
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--master" -> master = CliArgs.value(args, ++i, "--master");
                    case "--slices" -> slices = CliArgs.parseInt(CliArgs.value(args, ++i, "--slices"), "--slices", 1);
                    case "--partitions" -> partitions = CliArgs.parseInt(CliArgs.value(args, ++i, "--partitions"),
                            "--partitions", 1);
                    case "--resume" -> resume = true;
                    case "-h", "--help" -> throw new CliArgs.HelpRequested();
                    case "--compare-no-dropout", "--mask-digest", "--export" ->
                            throw new IllegalArgumentException(args[i] + " is an option of ./fuse4j train only");
                    default -> trainArgs.add(args[i]);
                }
            }
            o = TrainOptions.parse(trainArgs.toArray(String[]::new));
        } catch (CliArgs.HelpRequested | CliArgs.VersionRequested | IllegalArgumentException e) {
            return CliArgs.stopped(e, "spark-train", USAGE, out, err);
        }
        IdxDataset train;
        IdxDataset val;
        try {
            train = IdxDataset.load(o.trainImages(), o.trainLabels(), o.trainLimit());
            val = IdxDataset.load(o.valImages(), o.valLabels());
        } catch (IOException e) {
            err.println("spark-train: " + e.getMessage());
            return ExitCode.USAGE;
        }
        SparkSession.Builder builder = SparkSession.builder().appName("fuse4j spark-train");
        if (master != null) {
            builder.master(master);
        } else if (!new org.apache.spark.SparkConf().contains("spark.master")) {
            builder.master("local[*]").config("spark.ui.enabled", "false");
        }
        SparkSession spark = builder.getOrCreate();
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            int n = slices > 0 ? slices : sc.defaultParallelism();
            int parts = partitions > 0 ? partitions : n;
            ModelSpec spec = ModelSpec.input(train.features(), o.seed());
            for (int width : o.hidden()) {
                spec = spec.dense(width, o.activation(), o.dropout());
            }
            spec = spec.linear(train.classes());
            TrainingPlan plan = new TrainingPlan(o.batch(), n, o.epochs(), o.seed());
            Path checkpoint = o.out().resolve("spark-train.ckpt");
            Files.createDirectories(o.out());
            if (!resume) {
                Files.deleteIfExists(checkpoint);
            }
            out.printf(Locale.ROOT, "spark-train: master %s, %d examples in %d partitions, batches of %d in %d "
                            + "slices, %s, backend %s%n", sc.master(), train.size(), parts, o.batch(), n,
                    optimizerName(o), o.backend() == null ? "chosen by each JVM" : o.backend());
            SparkTrainer trainer = new SparkTrainer(spec, plan).optimizer(optimizer(o)).checkpoint(checkpoint)
                    .listener(e -> out.printf(Locale.ROOT, "epoch %d/%d: loss %.4f, train accuracy %.2f %%, %.1f s "
                                    + "(the slowest slice's own work %.1f s; Spark and the driver %.1f ms a step)%n",
                            e.epoch() + 1, plan.epochs(), e.loss(), 100 * e.accuracy(), e.seconds(),
                            e.sliceSeconds(), 1000 * (e.seconds() - e.sliceSeconds()) / e.steps()));
            if (o.backend() != null) {
                trainer.backend(o.backend());
            }
            TrainingRun run;
            try {
                run = trainer.fit(examples(sc, train, parts));
            } catch (ArithmeticException e) {
                err.println("spark-train: " + e.getMessage());
                return ExitCode.FAILED;
            }
            double accuracy = accuracy(spark, run.model(), val, parts, o.backend());
            out.printf(Locale.ROOT, "validation accuracy %.2f %% on %d examples (scored on the executors); "
                    + "checkpoint %s%n", 100 * accuracy, val.size(), checkpoint);
            return ExitCode.OK;
        } finally {
            spark.stop();
        }
    }

    private static String optimizerName(TrainOptions o) {
        return String.format(Locale.ROOT, "%s lr %s", o.optimizer(), o.lr());
    }

    private static Function<List<Parameter>, Optimizer> optimizer(TrainOptions o) {
        return o.optimizer().equals("adam")
                ? ps -> new Adam(ps, o.lr(), 0.9f, 0.999f, 1e-8f, o.weightDecay())
                : ps -> new Sgd(ps, o.lr(), o.momentum(), o.weightDecay());
    }

    private static JavaRDD<Example> examples(JavaSparkContext sc, IdxDataset data, int partitions) {
        float[] x = data.images();
        int f = data.features();
        List<Example> list = new ArrayList<>(data.size());
        for (int i = 0; i < data.size(); i++) {
            list.add(new Example(Arrays.copyOfRange(x, i * f, (i + 1) * f), data.label(i)));
        }
        return sc.parallelize(list, partitions);
    }

    /** The fraction of {@code data} whose prediction, scored on the executors, is its label. */
    private static double accuracy(SparkSession spark, TrainedModel model, IdxDataset data, int partitions,
                                   String backend) {
        float[] x = data.images();
        int f = data.features();
        List<Row> rows = new ArrayList<>(data.size());
        for (int i = 0; i < data.size(); i++) {
            rows.add(RowFactory.create(data.label(i), Arrays.copyOfRange(x, i * f, (i + 1) * f)));
        }
        StructType schema = new StructType().add("label", DataTypes.IntegerType)
                .add("features", DataTypes.createArrayType(DataTypes.FloatType, false));
        Dataset<Row> df = spark.createDataFrame(rows, schema).repartition(partitions);
        SparkScoring scoring = new SparkScoring(model);
        if (backend != null) {
            scoring.backend(backend);
        }
        long right = scoring.transform(df, "features").filter("prediction = label").count();
        return (double) right / data.size();
    }
}
