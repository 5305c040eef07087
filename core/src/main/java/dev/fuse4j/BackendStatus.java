package dev.fuse4j;

/**
 * What {@link Backends#probe()} found for one backend device.
 *
 * @param name      the name {@link Backends#get(String)} takes, such as {@code cpu}, {@code opencl:1}, {@code cuda:0}
 * @param available whether it can run here
 * @param device    a description of the device (model, memory, compute units), or empty when none was found
 * @param reason    why it is unavailable, in one line; empty when available
 * @param kind      what the device is, which orders {@link Backends#select()}; null when no device was found
 * @param cause     the error that made it unavailable, whole (a driver's linkage error runs to many lines); null when
 *                  there was none or the reason says everything
 */
public record BackendStatus(String name, boolean available, String device, String reason, DeviceKind kind,
                            Throwable cause) {

    /** A device that computes in Java on the host CPU, as the {@code cpu} backends do. */
    public static BackendStatus available(String name, String device) {
        return available(name, device, DeviceKind.JAVA);
    }

    public static BackendStatus available(String name, String device, DeviceKind kind) {
        return new BackendStatus(name, true, device, "", kind, null);
    }

    public static BackendStatus unavailable(String name, String reason) {
        return unavailable(name, reason, null);
    }

    public static BackendStatus unavailable(String name, String reason, Throwable cause) {
        return new BackendStatus(name, false, "", reason, null, cause);
    }

    @Override
    public String toString() {
        return available ? name + ": available on " + device
                : name + ": unavailable" + (device.isEmpty() ? "" : " on " + device) + " (" + reason + ")";
    }
}
