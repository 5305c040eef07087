package dev.fuse4j.spark;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Which backend a task asks for, from the job's choice, the executor's and the GPUs Spark gave the task; and the
 * cpu backend's thread count on an executor.
 */
class ExecutorBackendsTest {
    private static final String[] NONE = {};

    @Test
    void theJobsChoiceWinsOverEverything() {
        assertEquals("cpu", ExecutorBackends.choose("cpu", "opencl", new String[] {"1"}));
    }

    @Test
    void theExecutorsExplicitChoiceIsLeftToSelect() {
        assertNull(ExecutorBackends.choose(null, "opencl", new String[] {"1"}));
    }

    @Test
    void theTasksFirstGpuIsItsCudaDevice() {
        assertEquals("cuda:3", ExecutorBackends.choose(null, null, new String[] {"3", "5"}));
        assertEquals("cuda:0", ExecutorBackends.choose(null, null, new String[] {" 0 "}));
    }

    @Test
    void withNoChoiceAndNoGpuSelectDecides() {
        assertNull(ExecutorBackends.choose(null, null, NONE));
    }

    @Test
    void anExecutorWithoutAThreadSettingTakesSparkTaskCpus() {
        assertEquals("2", ExecutorBackends.cpuThreads(null, null, "3", "2"));
    }

    @Test
    void theDriverAndAJvmWithItsOwnThreadSettingAreLeftAlone() {
        assertNull(ExecutorBackends.cpuThreads(null, null, "driver", "2"));
        assertNull(ExecutorBackends.cpuThreads("4", null, "3", "2"));
        assertNull(ExecutorBackends.cpuThreads(null, "4", "3", "2"));
    }
}
