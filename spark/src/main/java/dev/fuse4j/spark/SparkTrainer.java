package dev.fuse4j.spark;

import dev.fuse4j.Backend;
import dev.fuse4j.nn.Optimizer;
import dev.fuse4j.nn.Parameter;
import dev.fuse4j.nn.Sequential;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Synchronous data-parallel training on Spark. Each step the driver broadcasts the parameters, the
 * {@link TrainingPlan#slices()} slices of the global batch run as Spark tasks on their executors' backends, and
 * the driver sums the gradients in slice order and steps its optimizer. The result is the same bits on every run,
 * equal to {@link SliceReference} with the same plan, and every dropout mask is the one one-machine training
 * draws, for any number of slices (see docs/DESIGN.md, "Splitting a batch across workers").
 *
 * <pre>{@code
 * TrainingRun run = new SparkTrainer(spec, new TrainingPlan(128, 4, 10, 7L))
 *         .optimizer(ps -> new Sgd(ps, 0.05f, 0.9f, 0f))
 *         .checkpoint(Path.of("model.ckpt"))
 *         .fit(dataFrame, "features", "label");
 * }</pre>
 */
public final class SparkTrainer {

    private final ModelSpec spec;
    private final TrainingPlan plan;
    private String backend;
    private Function<List<Parameter>, Optimizer> optimizer;
    private Path checkpoint;
    private Consumer<EpochStats> listener;

    /** Training of the model {@code spec} describes, as {@code plan} says; SGD with learning rate 0.05 by default. */
    public SparkTrainer(ModelSpec spec, TrainingPlan plan) {
        this.spec = spec;
        this.plan = plan;
        spec.outFeatures(); // refuses a spec without layers now rather than on an executor
        this.optimizer = ps -> new dev.fuse4j.nn.Sgd(ps, 0.05f, 0f, 0f);
    }

    /**
     * The backend the driver and every task use, such as {@code cpu}; by default each JVM picks its own (see
     * {@link ExecutorBackends}): bit-identical results across machines need the same backend everywhere.
     */
    public SparkTrainer backend(String name) {
        this.backend = name;
        return this;
    }

    /** How the driver builds its optimizer over the model's parameters. */
    public SparkTrainer optimizer(Function<List<Parameter>, Optimizer> factory) {
        this.optimizer = factory;
        return this;
    }

    /** Saves the model, optimizer and offsets after each epoch to {@code file}, and resumes from it if it exists. */
    public SparkTrainer checkpoint(Path file) {
        this.checkpoint = file;
        return this;
    }

    /** Told after each epoch on the driver. */
    public SparkTrainer listener(Consumer<EpochStats> epochListener) {
        this.listener = epochListener;
        return this;
    }

    /**
     * Trains on the rows of {@code data}: {@code featuresCol} an array of numbers per row, {@code labelCol} the
     * class index. Rows are numbered in the Dataset's order, which must be the same each time it is computed.
     *
     * @throws IllegalArgumentException naming the first row that does not fit the model, or for no rows
     */
    public TrainingRun fit(Dataset<Row> data, String featuresCol, String labelCol) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(data.sparkSession().sparkContext());
        return fit(sc, TrainingInput.checked(TrainingInput.parse(data, featuresCol, labelCol, spec)));
    }

    /**
     * Trains on {@code data}, numbered in its order, which must be the same each time it is computed.
     *
     * @throws IllegalArgumentException naming the first example that does not fit the model, or for none
     */
    public TrainingRun fit(JavaRDD<Example> data) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(data.context());
        return fit(sc, TrainingInput.checked(TrainingInput.parse(data, spec)));
    }

    private TrainingRun fit(JavaSparkContext sc, TrainingInput.Numbered input) {
        JavaPairRDD<Long, Example> examples = input.examples();
        Backend driver = ExecutorBackends.forTask(backend);
        try (Sequential model = spec.build(driver);
             Optimizer opt = optimizer.apply(model.parameters());
             SparkSliceRunner runner = new SparkSliceRunner(sc, examples, (int) input.count(), spec, plan,
                     backend)) {
            List<EpochStats> epochs = SynchronousLoop.run(model, opt, plan, (int) input.count(), runner, checkpoint,
                    listener);
            return new TrainingRun(new TrainedModel(spec, model.exportParameters()), epochs);
        } finally {
            input.release();
        }
    }
}
