package dev.fuse4j.kernels;

import dev.fuse4j.DeviceMemoryException;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;

/**
 * The bytes one device's buffers hold and the one rule for an allocation: it must fit the device's budget and the
 * driver must grant it; if either says no, the caches give their buffers back (scratch buffers, then the pool) and
 * the allocation is tried once more; if that fails too it is refused with a {@link DeviceMemoryException} naming
 * the device, the bytes asked for, the bytes held and the bytes still available. Thread-safe; needs no driver of
 * its own, so the policy is tested without a device.
 *
 * @param <B> the device's buffer handle
 */
public final class DeviceMemory<B> {

    /** How much the backend may hold on the device. */
    public interface Budget {
        /**
         * The most bytes the backend may hold, given that it holds {@code inUse} now ({@link Long#MAX_VALUE}: the
         * driver alone decides). {@code fresh} asks for a new look at the host or device, before a refusal.
         */
        long limitBytes(long inUse, boolean fresh);

        /** The limit in words, for messages ("half the host's available memory"). */
        String describe();
    }

    private static final System.Logger LOG = System.getLogger(DeviceMemory.class.getName());

    private final String device;
    private final Budget budget;
    private final LongSupplier driverFree;
    private final Runnable drainPool;
    private final List<Runnable> caches = new CopyOnWriteArrayList<>();
    private final Map<B, Long> sizes = new ConcurrentHashMap<>();
    private final AtomicLong inUse = new AtomicLong();

    /**
     * @param device     the device in words, for messages
     * @param driverFree bytes the driver says are free on the device, or -1 where it cannot say
     * @param drainPool  gives back the buffers a pool keeps for reuse (through {@link #release}), after the caches
     *                  registered with {@link #onPressure} gave theirs back to it; null where there is no pool
     */
    public DeviceMemory(String device, Budget budget, LongSupplier driverFree, Runnable drainPool) {
        this.device = device;
        this.budget = budget;
        this.driverFree = driverFree;
        this.drainPool = drainPool;
    }

    /** Registers a cache that gives its buffers back (through the device's free) when an allocation does not fit. */
    public void onPressure(Runnable giveBack) {
        caches.add(giveBack);
    }

    /**
     * A new buffer of {@code bytes} from {@code driver} (which returns null when the device has no room), or a
     * {@link DeviceMemoryException} once the caches were given back in vain.
     */
    public B allocate(long bytes, LongFunction<B> driver) {
        B b = tryAllocate(bytes, driver, false);
        if (b != null) {
            return b;
        }
        LOG.log(System.Logger.Level.DEBUG, "{0}: {1} do not fit; giving back cached buffers and retrying",
                device, bytes);
        caches.forEach(Runnable::run);
        if (drainPool != null) {
            drainPool.run();
        }
        b = tryAllocate(bytes, driver, true);
        if (b != null) {
            return b;
        }
        long held = inUse.get();
        long limit = budget.limitBytes(held, false);
        long available = Math.max(0, limit == Long.MAX_VALUE ? Long.MAX_VALUE : limit - held);
        long free = driverFree.getAsLong();
        if (free >= 0) {
            available = Math.min(available, free);
        }
        String why = bytes > limit - held ? "over " + budget.describe() + ", " + DeviceMemoryException.bytes(limit)
                : "the driver refused it";
        throw new DeviceMemoryException(device, bytes, held, available, why);
    }

    /** Reserves {@code bytes} within the budget, then asks the driver; null if either says no. */
    private B tryAllocate(long bytes, LongFunction<B> driver, boolean fresh) {
        long held;
        do {
            held = inUse.get();
            if (bytes > budget.limitBytes(held, fresh) - held) {
                return null;
            }
        } while (!inUse.compareAndSet(held, held + bytes));
        B b = null;
        try {
            b = driver.apply(bytes);
        } finally {
            if (b == null) {
                inUse.addAndGet(-bytes); // refused or thrown: the reservation is undone
            }
        }
        if (b != null) {
            sizes.put(b, bytes);
        }
        return b;
    }

    /** Forgets {@code buffer}, which the caller then frees with the driver; returns its size (0 if not ours). */
    public long release(B buffer) {
        Long bytes = sizes.remove(buffer);
        if (bytes == null) {
            return 0;
        }
        inUse.addAndGet(-bytes);
        return bytes;
    }

    /** The size {@code buffer} was allocated with, or 0 if it is not one of this device's. */
    public long sizeOf(B buffer) {
        Long bytes = sizes.get(buffer);
        return bytes == null ? 0 : bytes;
    }

    /** Bytes held by buffers allocated and not yet released. */
    public long inUseBytes() {
        return inUse.get();
    }

    /** The device in words. */
    public String device() {
        return device;
    }
}
