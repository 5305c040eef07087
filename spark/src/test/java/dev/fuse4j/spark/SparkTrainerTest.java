package dev.fuse4j.spark;

import dev.fuse4j.Backend;
import dev.fuse4j.Backends;
import dev.fuse4j.nn.Optimizer;
import dev.fuse4j.nn.Parameter;
import dev.fuse4j.nn.Sequential;
import dev.fuse4j.nn.Sgd;
import dev.fuse4j.nn.Training;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Data-parallel training on {@code local[4]}: determinism, the N-slice reference, retries, bad input. */
class SparkTrainerTest {
    /** Every JVM here runs the same backend, so bits can be compared across the driver and the tasks. */
    private static final String BACKEND = "cpu";
    private static final SyntheticTask TASK = new SyntheticTask(250, 11);
    private static final Function<List<Parameter>, Optimizer> SGD = ps -> new Sgd(ps, 0.05f, 0.9f, 0f);

    private static SparkSession spark;
    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        spark = SparkSessions.local4();
        sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    @AfterAll
    static void stop() {
        ReplicaPool.clear();
        spark.stop();
    }

    private static TrainingPlan plan(int slices, int epochs) {
        return new TrainingPlan(32, slices, epochs, 5L);
    }

    private static TrainingRun onSpark(TrainingPlan plan, JavaRDD<Example> data) {
        return new SparkTrainer(SyntheticTask.model(3), plan).backend(BACKEND).optimizer(SGD).fit(data);
    }

    private static TrainingRun reference(TrainingPlan plan) {
        return SliceReference.train(SyntheticTask.model(3), plan, Backends.get(BACKEND), SGD, TASK.x, TASK.labels,
                null, null);
    }

    @ParameterizedTest(name = "{0} slices")
    @ValueSource(ints = {3, 4})
    void sameBitsOnEveryRunEqualToTheSliceReferenceAndTheLossFalls(int slices) {
        TrainingPlan plan = plan(slices, 4);
        JavaRDD<Example> data = sc.parallelize(TASK.examples(), 3);
        TrainingRun first = onSpark(plan, data);
        TrainingRun second = onSpark(plan, data);
        assertArrayEquals(first.parameters(), second.parameters(), "two runs of " + plan);
        assertEquals(first.epochs().stream().map(EpochStats::loss).toList(),
                second.epochs().stream().map(EpochStats::loss).toList(), "the losses of two runs of " + plan);
        TrainingRun ref = reference(plan);
        assertArrayEquals(ref.parameters(), first.parameters(), "Spark against the " + slices + "-slice reference");
        assertEquals(ref.epochs().stream().map(EpochStats::loss).toList(),
                first.epochs().stream().map(EpochStats::loss).toList(), "the losses against the reference");
        List<EpochStats> e = first.epochs();
        assertTrue(e.get(3).loss() < 0.5 * e.get(0).loss(), "the loss should fall by half in 4 epochs: " + e);
        assertTrue(e.get(3).accuracy() > 0.8, "training accuracy after 4 epochs: " + e.get(3));
    }

    @Test
    void oneSliceIsOneMachineTrainingBitForBit() {
        TrainingPlan plan = plan(1, 2);
        TrainingRun spark1 = onSpark(plan, sc.parallelize(TASK.examples(), 4));
        Backend be = Backends.get(BACKEND);
        try (Sequential m = SyntheticTask.model(3).build(be); Optimizer opt = SGD.apply(m.parameters())) {
            for (int epoch = 0; epoch < plan.epochs(); epoch++) {
                Training.trainEpoch(m, opt, TASK.x, TASK.labels,
                        Training.shuffledOrder(TASK.size(), plan.shuffleSeed(), epoch), plan.batchSize(), null);
            }
            assertArrayEquals(m.exportParameters(), spark1.parameters(), "one slice against Training.trainEpoch");
        }
    }

    /**
     * Any number of slices draws one-machine training's masks: the runs differ only in the rounding of the
     * gradient sums. A slice that drew other masks (element base 0, say) would move the parameters by far more.
     */
    @Test
    void everySliceCountDrawsOneMachinesMasks() {
        float[] whole = reference(plan(1, 1)).parameters();
        for (int slices : new int[] {2, 3, 4, 7}) {
            float[] split = onSpark(plan(slices, 1), sc.parallelize(TASK.examples(), 2)).parameters();
            for (int e = 0; e < whole.length; e++) {
                if (!(Math.abs(split[e] - whole[e]) <= 2e-5f * Math.max(1f, Math.abs(whole[e])))) {
                    fail("parameter " + e + " after one epoch in " + slices + " slices is " + split[e]
                            + " but in one slice " + whole[e]);
                }
            }
        }
    }

    @Test
    void aTaskThatFailsOnceIsRetriedToTheSameResult() {
        TrainingPlan plan = plan(3, 2);
        TrainingRun clean = onSpark(plan, sc.parallelize(TASK.examples(), 3));
        JavaRDD<Example> flaky = sc.parallelize(TASK.examples(), 3).mapPartitionsWithIndex((p, it) -> {
            if (p == 1 && TaskContext.get().attemptNumber() == 0) {
                throw new IllegalStateException("the first attempt of partition 1 fails on purpose");
            }
            return it;
        }, true);
        assertArrayEquals(clean.parameters(), onSpark(plan, flaky).parameters(), "a run whose task was retried");
    }

    @Test
    void emptyPartitionsAndALastBatchSmallerThanTheSlicesChangeNothing() {
        TrainingPlan plan = new TrainingPlan(32, 4, 1, 5L);
        // 250 examples in batches of 32: the last batch has 26 rows; 227 puts 3 rows in the last, fewer than 4 slices.
        List<Example> few = TASK.examples().subList(0, 227);
        TrainingRun packed = onSpark(plan, sc.parallelize(few, 2));
        // 5 examples in 9 partitions leave 4 of them empty; so do the 2 partitions of an empty list.
        JavaRDD<Example> gappy = sc.parallelize(List.<Example>of(), 2).union(sc.parallelize(few.subList(0, 5), 9))
                .union(sc.parallelize(few.subList(5, 227), 3));
        assertTrue(gappy.glom().collect().stream().anyMatch(List::isEmpty), "the input has empty partitions");
        assertArrayEquals(packed.parameters(), onSpark(plan, gappy).parameters(), "with empty partitions");
    }

    @Test
    void aDataFrameTrainsLikeTheSameExamplesAsAnRdd() {
        TrainingPlan plan = plan(3, 1);
        StructType schema = new StructType()
                .add("label", DataTypes.IntegerType)
                .add("pixels", DataTypes.createArrayType(DataTypes.DoubleType));
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < TASK.size(); i++) {
            Double[] f = new Double[SyntheticTask.FEATURES];
            for (int j = 0; j < f.length; j++) {
                f[j] = (double) TASK.x[i * SyntheticTask.FEATURES + j];
            }
            rows.add(RowFactory.create((int) TASK.labels[i], f));
        }
        TrainingRun fromRows = new SparkTrainer(SyntheticTask.model(3), plan).backend(BACKEND).optimizer(SGD)
                .fit(spark.createDataFrame(rows, schema), "pixels", "label");
        assertArrayEquals(reference(plan).parameters(), fromRows.parameters(), "a DataFrame against the reference");
    }

    @Test
    void aResumedRunEndsWithTheBitsOfAnUninterruptedOne(@TempDir Path dir) {
        JavaRDD<Example> data = sc.parallelize(TASK.examples(), 4);
        TrainingRun straight = onSpark(plan(4, 3), data);
        Path ckpt = dir.resolve("model.ckpt");
        TrainingRun first = new SparkTrainer(SyntheticTask.model(3), plan(4, 1)).backend(BACKEND).optimizer(SGD)
                .checkpoint(ckpt).fit(data);
        assertEquals(1, first.epochs().size());
        TrainingRun resumed = new SparkTrainer(SyntheticTask.model(3), plan(4, 3)).backend(BACKEND).optimizer(SGD)
                .checkpoint(ckpt).fit(data);
        assertEquals(List.of(1, 2), resumed.epochs().stream().map(EpochStats::epoch).toList());
        assertArrayEquals(straight.parameters(), resumed.parameters(), "resumed after epoch 1 of 3");
        assertEquals(straight.epochs().get(2).loss(), resumed.epochs().get(1).loss(), "the last epoch's loss");
    }

    @Test
    void badInputIsRefusedNamingTheRow() {
        List<Example> ragged = new ArrayList<>(TASK.examples());
        ragged.set(137, new Example(Arrays.copyOf(TASK.row(137), 11), 1f));
        assertMessage("input row 137: has 11 features but the model takes 12", sc.parallelize(ragged, 4));

        List<Example> nanLabel = new ArrayList<>(TASK.examples());
        nanLabel.set(61, new Example(TASK.row(61), Float.NaN));
        nanLabel.set(200, new Example(TASK.row(200), Float.NaN));
        assertMessage("input row 61: the label NaN is not a class index in [0, 4)", sc.parallelize(nanLabel, 3));

        List<Example> badLabel = new ArrayList<>(TASK.examples());
        badLabel.set(9, new Example(TASK.row(9), 4f));
        assertMessage("input row 9: the label 4.0 is not a class index in [0, 4)", sc.parallelize(badLabel, 3));

        List<Example> infinite = new ArrayList<>(TASK.examples());
        float[] f = TASK.row(30);
        f[5] = Float.POSITIVE_INFINITY;
        infinite.set(30, new Example(f, 0f));
        assertMessage("input row 30: feature 5 is Infinity", sc.parallelize(infinite, 3));

        assertMessage("the input has no rows to train on", sc.parallelize(List.<Example>of(), 3));

        SparkTrainer trainer = new SparkTrainer(SyntheticTask.model(3), plan(3, 1)).backend(BACKEND);
        Dataset<Row> nullFeatures = frame(3, -1);
        assertEquals("input row 3: the features (x) are null",
                assertThrows(IllegalArgumentException.class, () -> trainer.fit(nullFeatures, "x", "y")).getMessage());
        Dataset<Row> nullLabel = frame(-1, 14);
        assertEquals("input row 14: the label (y) is null, not a number",
                assertThrows(IllegalArgumentException.class, () -> trainer.fit(nullLabel, "x", "y")).getMessage());
        assertEquals("the input has no column label; its columns are [y, x]",
                assertThrows(IllegalArgumentException.class, () -> trainer.fit(nullLabel, "x", "label"))
                        .getMessage());
    }

    /** 20 rows of a label column y and a features column x, with null features in one row, a null label in another. */
    private static Dataset<Row> frame(int nullFeaturesRow, int nullLabelRow) {
        StructType schema = new StructType().add("y", DataTypes.DoubleType)
                .add("x", DataTypes.createArrayType(DataTypes.FloatType));
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Float[] x = new Float[SyntheticTask.FEATURES];
            Arrays.fill(x, 0.5f);
            rows.add(RowFactory.create(i == nullLabelRow ? null : 1.0, i == nullFeaturesRow ? null : x));
        }
        return spark.createDataFrame(rows, schema);
    }

    private static void assertMessage(String expected, JavaRDD<Example> data) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> onSpark(plan(3, 1), data));
        assertEquals(expected, e.getMessage());
    }
}
