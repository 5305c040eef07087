package dev.fuse4j.cpu;

/**
 * The number of threads the cpu backend works on, for code that sizes another library's threads beside it (a peer
 * being compared on the same cores): {@value #PROPERTY}, else {@value #ENV}, else every processor this JVM may use.
 */
public final class CpuThreads {
    public static final String PROPERTY = WorkerPool.THREADS_PROPERTY;
    public static final String ENV = WorkerPool.THREADS_ENV;

    private CpuThreads() {
    }

    /**
     * The count the cpu backend's worker pool has or will have.
     *
     * @throws IllegalArgumentException when the setting is not a whole number of at least 1, naming it and its value
     */
    public static int configured() {
        return WorkerPool.configuredThreads();
    }
}
