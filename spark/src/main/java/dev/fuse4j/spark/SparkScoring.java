package dev.fuse4j.spark;

import dev.fuse4j.Backend;
import dev.fuse4j.Tensor;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Scores a DataFrame on the executors: the model in evaluation mode (no dropout) on each executor's backend, the
 * GPU Spark gave the task where it schedules GPUs ({@link ExecutorBackends}), rows in blocks of
 * {@link #BLOCK_ROWS}. Each output row is the model's output for that row alone, so the scores equal
 * one-machine evaluation bit for bit on the same backend however the rows are partitioned.
 */
public final class SparkScoring {

    /** Rows per forward pass on an executor. */
    public static final int BLOCK_ROWS = 1024;

    private final TrainedModel model;
    private String backend;
    private String logitsCol = "logits";
    private String predictionCol = "prediction";

    public SparkScoring(TrainedModel model) {
        this.model = model;
    }

    /** The backend every task uses, such as {@code cpu}; by default each executor picks its own. */
    public SparkScoring backend(String name) {
        this.backend = name;
        return this;
    }

    /** The names of the two columns added: the model's outputs and their arg-max (default logits, prediction). */
    public SparkScoring outputColumns(String logits, String prediction) {
        this.logitsCol = logits;
        this.predictionCol = prediction;
        return this;
    }

    /**
     * {@code data} with two columns added: {@code logits} (array of float, the model's output) and
     * {@code prediction} (int, the index of the largest output). Rows keep their order.
     *
     * @throws IllegalArgumentException when {@code featuresCol} is missing, or (when the job runs) when a row's
     *                                  features do not fit the model, naming the row's place in its partition
     */
    public Dataset<Row> transform(Dataset<Row> data, String featuresCol) {
        int fi = TrainingInput.columnIndex(data, featuresCol);
        StructType schema = data.schema()
                .add(logitsCol, DataTypes.createArrayType(DataTypes.FloatType, false), false)
                .add(predictionCol, DataTypes.IntegerType, false);
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(data.sparkSession().sparkContext());
        Broadcast<TrainedModel> bc = sc.broadcast(model);
        String be = backend;
        JavaRDD<Row> scored = data.javaRDD().mapPartitionsWithIndex(
                (partition, rows) -> score(bc.value(), be, partition, rows, fi, featuresCol), true);
        return data.sparkSession().createDataFrame(scored, schema);
    }

    private static Iterator<Row> score(TrainedModel model, String backendName, int partition, Iterator<Row> rows,
                                       int fi, String featuresCol) {
        Backend be = ExecutorBackends.forTask(backendName);
        int in = model.spec().inFeatures();
        int out = model.spec().outFeatures();
        List<Row> scored = new ArrayList<>();
        try (ReplicaPool.Lease lease = ReplicaPool.borrow(model.spec(), be)) {
            try {
                lease.model().loadParameters(model.parameters());
                lease.model().eval();
                List<Row> block = new ArrayList<>(BLOCK_ROWS);
                float[] x = new float[BLOCK_ROWS * in];
                long index = 0;
                while (rows.hasNext()) {
                    Row row = rows.next();
                    float[] f;
                    try {
                        f = TrainingInput.features(row, fi, featuresCol);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("row " + index + " of partition " + partition + ": "
                                + e.getMessage(), e);
                    }
                    if (f.length != in) {
                        throw new IllegalArgumentException("row " + index + " of partition " + partition + " has "
                                + f.length + " features but the model takes " + in);
                    }
                    System.arraycopy(f, 0, x, block.size() * in, in);
                    block.add(row);
                    index++;
                    if (block.size() == BLOCK_ROWS || !rows.hasNext()) {
                        float[] y;
                        try (Tensor xt = be.tensor(java.util.Arrays.copyOf(x, block.size() * in), block.size(),
                                in)) {
                            y = lease.model().forward(xt).toArray();
                        }
                        for (int i = 0; i < block.size(); i++) {
                            scored.add(withScores(block.get(i), y, i * out, out));
                        }
                        block.clear();
                    }
                }
            } catch (RuntimeException | Error e) {
                lease.failed();
                throw e;
            }
        }
        return scored.iterator();
    }

    /** {@code row}'s values followed by its outputs {@code y[from, from + out)} and their arg-max. */
    private static Row withScores(Row row, float[] y, int from, int out) {
        Object[] values = new Object[row.length() + 2];
        for (int c = 0; c < row.length(); c++) {
            values[c] = row.get(c);
        }
        Float[] logits = new Float[out];
        int best = 0;
        for (int j = 0; j < out; j++) {
            logits[j] = y[from + j];
            if (y[from + j] > y[from + best]) {
                best = j;
            }
        }
        values[row.length()] = logits;
        values[row.length() + 1] = best;
        return RowFactory.create(values);
    }
}
