package dev.fuse4j;

/**
 * What {@link Backends#probe()} found for one backend device.
 *
 * @param name      the name {@link Backends#get(String)} takes, such as {@code cpu}, {@code opencl:1}, {@code cuda:0}
 * @param available whether it can run here
 * @param device    a description of the device (model, memory, compute units), or empty when none was found
 * @param reason    why it is unavailable; empty when available
 */
public record BackendStatus(String name, boolean available, String device, String reason) {

    public static BackendStatus available(String name, String device) {
        return new BackendStatus(name, true, device, "");
    }

    public static BackendStatus unavailable(String name, String reason) {
        return new BackendStatus(name, false, "", reason);
    }

    @Override
    public String toString() {
        return available ? name + ": available on " + device
                : name + ": unavailable" + (device.isEmpty() ? "" : " on " + device) + " (" + reason + ")";
    }
}
