package dev.fuse4j.spark;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * The examples of a run, numbered in their input order (0, 1, ... across partitions, empty ones included) and
 * checked before the first step: every row needs as many features as the model takes, all finite, and a label
 * that is a class index of the model. The first bad row, by number, is refused in words.
 */
final class TrainingInput {

    /** A row read: its example, or what is wrong with it. */
    record Parsed(Example example, String problem) implements Serializable {
    }

    /** A bad row, ordered by its number so that the first one is reported. */
    record Problem(long row, String text) implements Serializable, Comparable<Problem> {
        @Override
        public int compareTo(Problem o) {
            return Long.compare(row, o.row);
        }
    }

    /** The checked rows, numbered and cached, and how many there are. */
    record Numbered(JavaPairRDD<Long, Parsed> parsed, long count) {
        JavaPairRDD<Long, Example> examples() {
            return parsed.mapValues(Parsed::example);
        }

        /** Drops the cached rows once the run is over. */
        void release() {
            parsed.unpersist(false);
        }
    }

    private TrainingInput() {
    }

    /** Reads {@code featuresCol} (an array of numbers) and {@code labelCol} (a number) of every row. */
    static JavaPairRDD<Long, Parsed> parse(Dataset<Row> data, String featuresCol, String labelCol, ModelSpec spec) {
        int fi = columnIndex(data, featuresCol);
        int li = columnIndex(data, labelCol);
        int features = spec.inFeatures();
        int classes = spec.outFeatures();
        return data.javaRDD().zipWithIndex().mapToPair(t -> {
            Example e;
            try {
                e = read(t._1(), fi, li, featuresCol, labelCol);
            } catch (IllegalArgumentException bad) {
                return new Tuple2<>(t._2(), new Parsed(null, bad.getMessage()));
            }
            return new Tuple2<>(t._2(), new Parsed(e, problem(e, features, classes)));
        });
    }

    /** Numbers and checks examples given as an RDD. */
    static JavaPairRDD<Long, Parsed> parse(JavaRDD<Example> data, ModelSpec spec) {
        int features = spec.inFeatures();
        int classes = spec.outFeatures();
        return data.zipWithIndex().mapToPair(t -> new Tuple2<>(t._2(), t._1() == null
                ? new Parsed(null, "the example is null")
                : new Parsed(t._1(), problem(t._1(), features, classes))));
    }

    /**
     * The examples once every row is checked; the parsed rows stay cached for the epochs to read.
     *
     * @throws IllegalArgumentException naming the first bad row, or when there are no rows
     */
    static Numbered checked(JavaPairRDD<Long, Parsed> parsed) {
        parsed.persist(StorageLevel.MEMORY_AND_DISK());
        List<Problem> first = parsed.filter(t -> t._2().problem() != null)
                .map(t -> new Problem(t._1(), t._2().problem())).takeOrdered(1);
        if (!first.isEmpty()) {
            parsed.unpersist(false);
            throw new IllegalArgumentException("input row " + first.get(0).row() + ": " + first.get(0).text());
        }
        long count = parsed.count();
        if (count == 0) {
            parsed.unpersist(false);
            throw new IllegalArgumentException("the input has no rows to train on");
        }
        if (count > Integer.MAX_VALUE - 8) {
            parsed.unpersist(false);
            throw new IllegalArgumentException("the input has " + count + " rows; at most " + (Integer.MAX_VALUE - 8)
                    + " can be trained on in one run");
        }
        return new Numbered(parsed, count);
    }

    /** What is wrong with {@code e} for a model of {@code features} inputs and {@code classes} outputs, or null. */
    static String problem(Example e, int features, int classes) {
        float[] f = e.features();
        if (f == null) {
            return "the features are null";
        }
        if (f.length != features) {
            return "has " + f.length + " features but the model takes " + features;
        }
        for (int j = 0; j < f.length; j++) {
            if (!Float.isFinite(f[j])) {
                return "feature " + j + " is " + f[j];
            }
        }
        float l = e.label();
        if (!(l >= 0 && l < classes && l == Math.rint(l))) {
            return "the label " + l + " is not a class index in [0, " + classes + ")";
        }
        return null;
    }

    /** The column {@code name} of {@code data}, or an error listing the columns there are. */
    static int columnIndex(Dataset<Row> data, String name) {
        List<String> names = Arrays.asList(data.schema().fieldNames());
        int i = names.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("the input has no column " + name + "; its columns are " + names);
        }
        return i;
    }

    /** The features of column {@code fi} of {@code row}: an array of numbers, or an error saying what is there. */
    static float[] features(Row row, int fi, String featuresCol) {
        if (row.isNullAt(fi)) {
            throw new IllegalArgumentException("the features (" + featuresCol + ") are null");
        }
        Object v = row.get(fi);
        if (!(v instanceof scala.collection.Seq<?>)) {
            throw new IllegalArgumentException("column " + featuresCol + " holds a " + v.getClass().getName()
                    + ", not an array of numbers (an ML vector converts with functions.vector_to_array)");
        }
        List<Object> values = row.getList(fi);
        float[] f = new float[values.size()];
        for (int j = 0; j < f.length; j++) {
            if (!(values.get(j) instanceof Number n)) {
                throw new IllegalArgumentException("feature " + j + " (" + featuresCol + ") is " + values.get(j));
            }
            f[j] = n.floatValue();
        }
        return f;
    }

    private static Example read(Row row, int fi, int li, String featuresCol, String labelCol) {
        float[] f = features(row, fi, featuresCol);
        Object l = row.isNullAt(li) ? null : row.get(li);
        if (!(l instanceof Number n)) {
            throw new IllegalArgumentException("the label (" + labelCol + ") is " + l + ", not a number");
        }
        return new Example(f, n.floatValue());
    }
}
