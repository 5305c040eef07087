package dev.fuse4j.kernels;

import dev.fuse4j.DeviceMemoryException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The allocation rule without a device: buffers are strings, the driver a function that may say no. */
class DeviceMemoryTest {

    /** A budget of {@code limit} bytes that records whether each question asked for a fresh look. */
    private static final class FixedBudget implements DeviceMemory.Budget {
        final long limit;
        final List<Boolean> fresh = new ArrayList<>();

        FixedBudget(long limit) {
            this.limit = limit;
        }

        @Override
        public long limitBytes(long inUse, boolean freshLook) {
            fresh.add(freshLook);
            return limit;
        }

        @Override
        public String describe() {
            return "the test's budget";
        }
    }

    private final List<String> events = new ArrayList<>();
    private int driverCalls;

    private LongFunction<String> driver(boolean grants) {
        return bytes -> {
            driverCalls++;
            events.add("driver " + bytes);
            return grants ? "buffer of " + bytes : null;
        };
    }

    @Test
    void allocationsWithinTheBudgetAreCountedUntilReleased() {
        DeviceMemory<String> m = new DeviceMemory<>("test device", new FixedBudget(1000), () -> -1, null);
        String a = m.allocate(400, driver(true));
        String b = m.allocate(600, driver(true));
        assertEquals(1000, m.inUseBytes());
        assertEquals(400, m.sizeOf(a));
        assertEquals(600, m.release(b));
        assertEquals(0, m.release("not ours"));
        assertEquals(400, m.inUseBytes());
        assertNotNull(m.allocate(600, driver(true)), "released bytes are available again");
    }

    @Test
    void overTheBudgetTheCachesGiveBackThenThePoolThenOneRetry() {
        FixedBudget budget = new FixedBudget(1000);
        List<String> scratch = new ArrayList<>();
        DeviceMemory<String> m = new DeviceMemory<>("test device", budget, () -> -1, () -> events.add("pool drained"));
        m.onPressure(() -> {
            events.add("scratch given back");
            scratch.forEach(m::release);
            scratch.clear();
        });
        scratch.add(m.allocate(700, driver(true)));
        events.clear();
        budget.fresh.clear();
        String big = m.allocate(500, driver(true));
        assertNotNull(big);
        assertEquals(List.of("scratch given back", "pool drained", "driver 500"), events);
        assertEquals(List.of(false, true), budget.fresh, "the retry takes a fresh look at the budget");
        assertEquals(500, m.inUseBytes());
    }

    @Test
    void aRefusalAfterTheRetryNamesDeviceAskedInUseAndAvailable() {
        DeviceMemory<String> m = new DeviceMemory<>("test device", new FixedBudget(1000), () -> -1,
                () -> events.add("pool drained"));
        m.allocate(700, driver(true));
        driverCalls = 0;
        DeviceMemoryException e = assertThrows(DeviceMemoryException.class, () -> m.allocate(400, driver(true)));
        assertEquals(0, driverCalls, "the budget refuses before the driver is asked");
        assertEquals(List.of("driver 700", "pool drained"), events);
        assertEquals("test device", e.device());
        assertEquals(400, e.requestedBytes());
        assertEquals(700, e.inUseBytes());
        assertEquals(300, e.availableBytes());
        assertTrue(e.getMessage().startsWith("test device: cannot allocate 400 bytes: 700 bytes in use, 300 bytes "
                + "available; over the test's budget, 1000 bytes"), e.getMessage());
        assertEquals(700, m.inUseBytes(), "a refusal holds nothing");
    }

    @Test
    void aDriverThatRefusesIsAskedTwiceAndItsFreeMemoryReported() {
        DeviceMemory<String> m = new DeviceMemory<>("gpu 0", new FixedBudget(Long.MAX_VALUE), () -> 123_456_789L,
                null);
        DeviceMemoryException e = assertThrows(DeviceMemoryException.class,
                () -> m.allocate(1L << 30, driver(false)));
        assertEquals(2, driverCalls, "one try and one retry");
        assertEquals(123_456_789L, e.availableBytes());
        assertTrue(e.getMessage().contains("1073741824 bytes (1.0 GiB)") && e.getMessage().contains("the driver refused"),
                e.getMessage());
        assertEquals(0, m.inUseBytes(), "the reservation is undone");
    }

    @Test
    void aDriverThatFindsRoomAfterTheCachesGaveBackSucceeds() {
        boolean[] cacheFreed = {false};
        DeviceMemory<String> m = new DeviceMemory<>("gpu 0", new FixedBudget(Long.MAX_VALUE), () -> -1, null);
        m.onPressure(() -> cacheFreed[0] = true);
        String b = m.allocate(64, bytes -> {
            driverCalls++;
            return cacheFreed[0] ? "granted" : null;
        });
        assertEquals("granted", b);
        assertEquals(2, driverCalls);
        assertEquals(64, m.inUseBytes());
    }
}
