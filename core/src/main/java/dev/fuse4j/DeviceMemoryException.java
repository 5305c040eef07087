package dev.fuse4j;

import java.util.Locale;

/**
 * A backend refused an allocation its device cannot hold: a GPU out of memory, an OpenCL CPU device at its share of
 * the host's memory, or a heap tensor larger than the Java heap. The message names the device, the bytes asked
 * for, the bytes the backend already holds and the bytes still available; the backend keeps working, and closing
 * tensors makes room.
 */
public class DeviceMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String device;
    private final long requestedBytes;
    private final long inUseBytes;
    private final long availableBytes;

    /**
     * @param device         the device in words
     * @param requestedBytes the size of the refused allocation
     * @param inUseBytes     what the backend holds on the device now
     * @param availableBytes what it may still allocate (0 when nothing)
     * @param why            what limit the allocation met, in words (appended to the message)
     */
    public DeviceMemoryException(String device, long requestedBytes, long inUseBytes, long availableBytes,
                                 String why) {
        super(device + ": cannot allocate " + bytes(requestedBytes) + ": " + bytes(inUseBytes) + " in use, "
                + bytes(availableBytes) + " available" + (why == null || why.isEmpty() ? "" : "; " + why)
                + ". Close tensors no longer needed, or use smaller batches.");
        this.device = device;
        this.requestedBytes = requestedBytes;
        this.inUseBytes = inUseBytes;
        this.availableBytes = availableBytes;
    }

    /** The device in words. */
    public String device() {
        return device;
    }

    /** The size of the refused allocation in bytes. */
    public long requestedBytes() {
        return requestedBytes;
    }

    /** Bytes the backend held on the device when it refused. */
    public long inUseBytes() {
        return inUseBytes;
    }

    /** Bytes it could still have allocated. */
    public long availableBytes() {
        return availableBytes;
    }

    /** {@code 1073741824 bytes (1.0 GiB)}: the exact count for scripts, the rounded size for people. */
    public static String bytes(long n) {
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        if (n < 1024) {
            return n + " bytes";
        }
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return n + " bytes (" + String.format(Locale.ROOT, "%.1f %s", v, units[u]) + ")";
    }
}
