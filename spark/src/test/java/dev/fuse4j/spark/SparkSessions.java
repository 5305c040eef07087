package dev.fuse4j.spark;

import org.apache.spark.sql.SparkSession;

/** The embedded Spark the tests share within a class: starting one costs seconds. */
final class SparkSessions {

    private SparkSessions() {
    }

    /**
     * Four task threads, each task tried at most twice ({@code local[4,2]}: plain {@code local[4]} never retries),
     * no web UI, few shuffle partitions.
     */
    static SparkSession local4() {
        return SparkSession.builder().master("local[4,2]").appName("fuse4j-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
    }
}
