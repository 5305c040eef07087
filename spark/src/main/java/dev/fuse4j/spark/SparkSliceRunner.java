package dev.fuse4j.spark;

import dev.fuse4j.Backend;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.util.Iterator;
import java.util.List;

/**
 * The slices of each step as Spark tasks. Per epoch one shuffle sends every example to the partition of its slice
 * ({@link SlicePartitioner}), sorted by position, and each partition packs its rows into an {@link EpochShard}
 * kept in memory; per step the parameters are broadcast and one task per partition runs its slice on a replica
 * from its executor's {@link ReplicaPool}. {@code collect} gives the results in partition order, which is slice
 * order. A task is a pure function of the broadcast state and its shard, so a retried or speculative copy
 * returns the same bits.
 */
final class SparkSliceRunner implements SliceRunner {
    private static final System.Logger LOG = System.getLogger(SparkSliceRunner.class.getName());

    private final JavaSparkContext sc;
    private final JavaPairRDD<Long, Example> examples;
    private final int count;
    private final ModelSpec spec;
    private final TrainingPlan plan;
    private final String backend;
    private Broadcast<int[]> positions;
    private JavaRDD<EpochShard> shards;

    SparkSliceRunner(JavaSparkContext sc, JavaPairRDD<Long, Example> examples, int count, ModelSpec spec,
                     TrainingPlan plan, String backend) {
        this.sc = sc;
        this.examples = examples;
        this.count = count;
        this.spec = spec;
        this.plan = plan;
        this.backend = backend;
    }

    @Override
    public void beginEpoch(long epoch, int[] order) {
        releaseEpoch();
        int[] position = new int[order.length];
        for (int p = 0; p < order.length; p++) {
            position[order[p]] = p;
        }
        Broadcast<int[]> pos = sc.broadcast(position);
        positions = pos;
        TrainingPlan pl = plan;
        int n = count;
        int features = spec.inFeatures();
        shards = examples.mapToPair(t -> new Tuple2<>((long) pos.value()[(int) (long) t._1()], t._2()))
                .repartitionAndSortWithinPartitions(new SlicePartitioner(pl, n))
                .mapPartitionsWithIndex((k, rows) -> List.of(EpochShard.build(k, rows, pl, n, features)).iterator(),
                        true)
                .persist(StorageLevel.MEMORY_ONLY());
        LOG.log(System.Logger.Level.DEBUG, "epoch {0}: {1} examples in {2} slices", epoch, n, plan.slices());
    }

    @Override
    public List<SliceResult> step(int step, StepState state) {
        Broadcast<StepState> bc = sc.broadcast(state);
        try {
            return shards.mapPartitionsWithIndex(new SliceTask(bc, spec, plan, count, backend, step), true)
                    .collect();
        } finally {
            bc.destroy();
        }
    }

    private void releaseEpoch() {
        if (shards != null) {
            shards.unpersist(false);
            shards = null;
        }
        if (positions != null) {
            positions.destroy();
            positions = null;
        }
    }

    @Override
    public void close() {
        releaseEpoch();
    }

    /** One slice of one step, on the executor that holds the slice's shard. */
    private record SliceTask(Broadcast<StepState> state, ModelSpec spec, TrainingPlan plan, int count,
                             String backend, int step)
            implements Function2<Integer, Iterator<EpochShard>, Iterator<SliceResult>> {
        private static final long serialVersionUID = 1L;

        @Override
        public Iterator<SliceResult> call(Integer k, Iterator<EpochShard> it) {
            EpochShard shard = it.next();
            int batchRows = plan.batchRows(step, count);
            int rows = shard.rows(step);
            if (rows == 0) {
                return List.of(SliceResult.empty(k)).iterator();
            }
            Backend be = ExecutorBackends.forTask(backend);
            try (ReplicaPool.Lease lease = ReplicaPool.borrow(spec, be)) {
                try {
                    return List.of(SliceStep.run(lease.model(), state.value(), k, shard.x(step),
                            shard.labels(step), rows, plan.sliceStart(k, batchRows), batchRows)).iterator();
                } catch (RuntimeException | Error e) {
                    lease.failed();
                    throw e;
                }
            }
        }
    }
}
