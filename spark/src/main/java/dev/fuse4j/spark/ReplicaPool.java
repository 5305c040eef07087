package dev.fuse4j.spark;

import dev.fuse4j.Backend;
import dev.fuse4j.nn.Sequential;

import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The model replicas an executor keeps between tasks, so a step does not rebuild its model. A replica is keyed by
 * its {@link ModelSpec} and backend, so one built for another model or device is never handed out, and is lent
 * to one task at a time (an executor runs several tasks at once). Its parameters, dropout offsets and mode are
 * whatever the last task left: every task loads its own before use.
 */
final class ReplicaPool {

    private record Key(ModelSpec spec, String backend) {
    }

    private static final Map<Key, Deque<Sequential>> IDLE = new ConcurrentHashMap<>();

    private ReplicaPool() {
    }

    /** A replica of {@code spec} on {@code backend}, taken from the pool or built. */
    static Lease borrow(ModelSpec spec, Backend backend) {
        Key key = new Key(spec, backend.name());
        Sequential m = IDLE.computeIfAbsent(key, k -> new ConcurrentLinkedDeque<>()).pollFirst();
        return new Lease(key, m != null ? m : spec.build(backend));
    }

    /** Closes every idle replica (those lent out are closed when given back with an error). */
    static void clear() {
        IDLE.values().forEach(d -> {
            for (Sequential m; (m = d.pollFirst()) != null; ) {
                m.close();
            }
        });
    }

    /** One replica lent to one task; {@link #close()} gives it back, or closes it when the task failed on it. */
    static final class Lease implements AutoCloseable {
        private final Key key;
        private final Sequential model;
        private boolean failed;

        private Lease(Key key, Sequential model) {
            this.key = key;
            this.model = model;
        }

        Sequential model() {
            return model;
        }

        /** The task failed while using the replica: it is closed rather than lent again. */
        void failed() {
            failed = true;
        }

        @Override
        public void close() {
            if (failed) {
                model.close();
            } else {
                IDLE.get(key).offerFirst(model);
            }
        }
    }
}
