package dev.fuse4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The record of queued work, on markers whose outcome the test sets, as a device would. */
class QueuedCallsTest {

    /** Markers are names; each has the outcome the test gave it, running until then. */
    private static final class FakeDevice implements QueuedCalls.Markers<String> {
        final Map<String, QueuedCalls.Outcome> outcomes = new HashMap<>();
        final List<String> released = new ArrayList<>();
        int submits;

        @Override
        public QueuedCalls.Outcome outcome(String marker) {
            return outcomes.getOrDefault(marker, QueuedCalls.Outcome.RUNNING);
        }

        @Override
        public void release(String marker) {
            released.add(marker);
        }
    }

    private final FakeDevice device = new FakeDevice();
    private final QueuedCalls<String> calls = new QueuedCalls<>("test device", device, () -> device.submits++);

    @Test
    void workQueuedOutsideACallIsRefused() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> calls.queued("gemm", "m1"));
        assertTrue(e.getMessage().contains("gemm") && e.getMessage().contains("outside a call"), e.getMessage());
        assertEquals(List.of("m1"), device.released, "the marker is given back");
    }

    @Test
    void eachCallSubmitsOnceAndFinishedWorkIsReleasedAsMoreIsQueued() {
        calls.queue("linear", () -> {
            calls.queued("gemm_forward", "a");
            calls.queue("nested", () -> calls.queued("fill", "b")); // a call inside a call submits with it
        });
        assertEquals(1, device.submits);
        assertEquals(2, calls.outstanding());
        device.outcomes.put("a", QueuedCalls.Outcome.DONE);
        calls.queue("sgdStep", () -> calls.queued("sgd_step", "c"));
        assertEquals(List.of("a"), device.released, "finished work at the front is released; b still runs");
        assertEquals(2, calls.outstanding());
    }

    @Test
    void aWaitThrowsForTheFirstFailedCommandNamingItsCallThenTheRecordIsClean() {
        calls.queue("linear 5x7->3 relu", () -> calls.queued("gemm_forward", "a"));
        calls.queue("linearBackward 5x7->3 relu", () -> {
            calls.queued("gemm_dx", "b");
            calls.queued("gemm_dw", "c");
        });
        calls.queue("sgdStep [3, 7]", () -> calls.queued("sgd_step", "d"));
        device.outcomes.put("a", QueuedCalls.Outcome.DONE);
        device.outcomes.put("b", QueuedCalls.Outcome.failed("CL_OUT_OF_RESOURCES (-5)"));
        device.outcomes.put("c", QueuedCalls.Outcome.failed("CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST (-14)"));
        // d runs on: queued after the wait by another thread, it stays recorded
        IllegalStateException e = assertThrows(IllegalStateException.class, calls::afterWait);
        assertEquals("test device: queued work of linearBackward 5x7->3 relu failed on the device (gemm_dx): "
                + "CL_OUT_OF_RESOURCES (-5); 1 later command did not run or failed as well", e.getMessage());
        assertEquals(List.of("a", "b", "c"), device.released);
        assertEquals(1, calls.outstanding());
        device.outcomes.put("d", QueuedCalls.Outcome.DONE);
        calls.afterWait(); // reported once: the next wait is clean
        assertEquals(0, calls.outstanding());
    }

    @Test
    void anErrorReportedAtALaterCallBlamesTheFirstWorkNotSeenToFinish() {
        calls.queue("linear", () -> calls.queued("gemm_forward", "a"));
        calls.queue("adamStep", () -> calls.queued("adam_step", "b"));
        device.outcomes.put("a", QueuedCalls.Outcome.DONE);
        // A device that reports one error for all work (CUDA's sticky errors): b never answers for itself.
        IllegalStateException e = calls.failure("the wait of toArray [3]", "CUDA_ERROR_ILLEGAL_ADDRESS");
        assertTrue(e.getMessage().contains("queued work of adamStep") && e.getMessage().contains("adam_step")
                && e.getMessage().contains("CUDA_ERROR_ILLEGAL_ADDRESS (reported at the wait of toArray [3])"),
                e.getMessage());
        assertEquals(0, calls.outstanding(), "everything outstanding is forgotten");
        e = calls.failure("cuLaunchKernel(sum2)", "CUDA_ERROR_INVALID_VALUE");
        assertEquals("test device: cuLaunchKernel(sum2) failed on the device: CUDA_ERROR_INVALID_VALUE",
                e.getMessage(), "with nothing outstanding the failing call itself is named");
    }

    @Test
    void callNamesAreFormattedOnlyForAMessage() {
        int[] formatted = new int[1];
        Object name = new Object() {
            @Override
            public String toString() {
                formatted[0]++;
                return "costly name";
            }
        };
        for (int i = 0; i < 1000; i++) {
            String marker = "m" + i;
            calls.queue(name, () -> calls.queued("k", marker));
            device.outcomes.put(marker, QueuedCalls.Outcome.DONE);
        }
        calls.afterWait();
        assertEquals(0, formatted[0]);
    }
}
