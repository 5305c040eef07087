package dev.fuse4j.opencl;

import dev.fuse4j.DeviceMemoryException;
import dev.fuse4j.kernels.DeviceMemory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * How much an OpenCL device may hold. A GPU or accelerator: its global memory (its driver refuses the rest too).
 * A CPU device (PoCL, Intel's CPU runtime): its "device memory" is the host's RAM and its driver refuses nothing
 * the kernel can overcommit, so the backend keeps to {@value #HOST_SHARE_PERCENT}% of the host's available memory
 * (MemAvailable, plus what the backend itself already holds), leaving the rest to the JVM's heap (which a read to
 * the host needs as much again) and to other processes. The property {@value #PROPERTY} (bytes, or with a k, m,
 * g or t suffix: {@code 256m}) sets the limit of every OpenCL device instead.
 */
final class ClMemoryBudget implements DeviceMemory.Budget {
    static final String PROPERTY = "fuse4j.opencl.memoryLimit";
    static final int HOST_SHARE_PERCENT = 50;
    /** The host's available memory is read again after this long (and always before a refusal). */
    private static final long REREAD_NANOS = 100_000_000L;
    private static final System.Logger LOG = System.getLogger(ClMemoryBudget.class.getName());

    private final long deviceBytes;
    private final LongSupplier hostAvailable;
    private final String describe;
    private long lastAvailable = -1;
    private long lastRead;

    /** At most {@code deviceBytes}, and a share of {@code hostAvailable} unless it is null. */
    private ClMemoryBudget(long deviceBytes, LongSupplier hostAvailable, String describe) {
        this.deviceBytes = deviceBytes;
        this.hostAvailable = hostAvailable;
        this.describe = describe;
    }

    /** The budget of {@code info}'s device: the property when set, else by the device's kind (above). */
    static ClMemoryBudget forDevice(ClDeviceInfo info) {
        return of(info, System.getProperty(PROPERTY), ClMemoryBudget::hostAvailableBytes);
    }

    /** As {@link #forDevice}, with the property's value and the host's available memory given (for tests). */
    static ClMemoryBudget of(ClDeviceInfo info, String property, LongSupplier hostAvailable) {
        if (property != null && !property.isBlank()) {
            long limit = parseSize(property);
            return new ClMemoryBudget(Math.min(limit, info.globalMemBytes()), null,
                    "the limit " + PROPERTY + "=" + property.trim());
        }
        if (info.rank() == ClDeviceInfo.RANK_CPU) {
            return new ClMemoryBudget(info.globalMemBytes(), hostAvailable, HOST_SHARE_PERCENT + "% of the host's "
                    + "available memory (a CPU device's memory is the host's; " + PROPERTY + " sets another limit)");
        }
        return new ClMemoryBudget(info.globalMemBytes(), null, "the device's global memory");
    }

    @Override
    public synchronized long limitBytes(long inUse, boolean fresh) {
        if (hostAvailable == null) {
            return deviceBytes;
        }
        long now = System.nanoTime();
        if (fresh || lastAvailable < 0 || now - lastRead > REREAD_NANOS) {
            lastAvailable = hostAvailable.getAsLong();
            lastRead = now;
        }
        // What the backend holds is part of what it may hold; the host's available memory no longer counts it.
        return Math.min(deviceBytes, (lastAvailable + inUse) * HOST_SHARE_PERCENT / 100);
    }

    @Override
    public String describe() {
        return describe;
    }

    /** {@code 1073741824}, {@code 1g}, {@code 256M}, {@code 64k}: bytes, with an optional binary suffix. */
    static long parseSize(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        int shift = 0;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'k' -> shift = 10;
                case 'm' -> shift = 20;
                case 'g' -> shift = 30;
                case 't' -> shift = 40;
                default -> { }
            }
        }
        String digits = shift == 0 ? t : t.substring(0, t.length() - 1);
        long n;
        try {
            n = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n <= 0 || n > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException(PROPERTY + " is '" + text + "' but must be a positive number of "
                    + "bytes, optionally with a suffix k, m, g or t (256m)");
        }
        return n << shift;
    }

    /** MemAvailable from /proc/meminfo (Linux), else the free memory the OS reports to the JVM. */
    static long hostAvailableBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    String[] parts = line.substring("MemAvailable:".length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024; // in kB
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "no MemAvailable in /proc/meminfo ({0}); asking the OS bean", e);
        }
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getFreeMemorySize();
        }
        return Runtime.getRuntime().maxMemory(); // nothing better known: as much as the heap may take
    }

    @Override
    public String toString() {
        return describe + " (device " + DeviceMemoryException.bytes(deviceBytes) + ")";
    }
}
