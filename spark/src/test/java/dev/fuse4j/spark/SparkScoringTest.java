package dev.fuse4j.spark;

import dev.fuse4j.Backends;
import dev.fuse4j.Tensor;
import dev.fuse4j.nn.Sequential;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scoring a DataFrame on the executors against the same model evaluated on one machine. */
class SparkScoringTest {
    private static final SyntheticTask TASK = new SyntheticTask(2500, 17);

    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkSessions.local4();
    }

    @AfterAll
    static void stop() {
        ReplicaPool.clear();
        spark.stop();
    }

    /** Rows (id, features) of the task, in {@code partitions} partitions. */
    private static Dataset<Row> frame(int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < TASK.size(); i++) {
            Float[] f = new Float[SyntheticTask.FEATURES];
            for (int j = 0; j < f.length; j++) {
                f[j] = TASK.x[i * SyntheticTask.FEATURES + j];
            }
            rows.add(RowFactory.create(i, f));
        }
        StructType schema = new StructType().add("id", DataTypes.IntegerType)
                .add("features", DataTypes.createArrayType(DataTypes.FloatType));
        return spark.createDataFrame(rows, schema).repartition(partitions);
    }

    /** A model with trained-looking parameters: the spec's initial values, perturbed, so nothing is at its seed. */
    private static TrainedModel model() {
        ModelSpec spec = SyntheticTask.model(8);
        try (Sequential m = spec.build(Backends.get("cpu"))) {
            float[] p = m.exportParameters();
            for (int e = 0; e < p.length; e++) {
                p[e] += 0.01f * (e % 7 - 3);
            }
            return new TrainedModel(spec, p);
        }
    }

    @Test
    void scoresEqualOneMachineEvaluationBitForBitInAnyPartitioning() {
        TrainedModel model = model();
        float[] expected;
        try (Sequential m = model.build(Backends.get("cpu"));
             Tensor x = Backends.get("cpu").tensor(TASK.x, TASK.size(), SyntheticTask.FEATURES)) {
            expected = m.forward(x).toArray();
        }
        int out = SyntheticTask.CLASSES;
        // 5 partitions of about 500 rows, and 2 of about 1250 (more than one block of 1024 rows each).
        for (int partitions : new int[] {5, 2}) {
            List<Row> scored = new SparkScoring(model).backend("cpu").transform(frame(partitions), "features")
                    .collectAsList();
            assertEquals(TASK.size(), scored.size());
            for (Row r : scored) {
                int id = r.getInt(0);
                List<Float> logits = r.getList(2);
                float[] got = new float[out];
                for (int j = 0; j < out; j++) {
                    got[j] = logits.get(j);
                }
                float[] want = Arrays.copyOfRange(expected, id * out, (id + 1) * out);
                assertArrayEquals(want, got, "logits of row " + id + " in " + partitions + " partitions");
                int best = 0;
                for (int j = 1; j < out; j++) {
                    best = want[j] > want[best] ? j : best;
                }
                assertEquals(best, r.getInt(3), "prediction of row " + id);
            }
        }
    }

    @Test
    void theOutputKeepsTheInputColumnsAndNamesItsOwn() {
        Dataset<Row> scored = new SparkScoring(model()).backend("cpu").outputColumns("scores", "cls")
                .transform(frame(3), "features");
        assertEquals(List.of("id", "features", "scores", "cls"), Arrays.asList(scored.columns()));
        assertTrue(scored.filter("cls < 0 or cls >= 4").isEmpty(), "every prediction is a class index");
    }

    @Test
    void featuresThatDoNotFitTheModelAreRefusedNamingTheRow() {
        StructType schema = new StructType().add("features", DataTypes.createArrayType(DataTypes.FloatType));
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Float[] f = new Float[i == 4 ? 5 : SyntheticTask.FEATURES];
            Arrays.fill(f, 1f);
            rows.add(RowFactory.create((Object) f));
        }
        Dataset<Row> df = spark.createDataFrame(rows, schema).coalesce(1);
        SparkException e = assertThrows(SparkException.class,
                () -> new SparkScoring(model()).backend("cpu").transform(df, "features").collect());
        assertTrue(e.getMessage().contains("row 4 of partition 0 has 5 features but the model takes 12"),
                e.getMessage());
        assertEquals("the input has no column pixels; its columns are [features]",
                assertThrows(IllegalArgumentException.class,
                        () -> new SparkScoring(model()).transform(df, "pixels")).getMessage());
    }
}
