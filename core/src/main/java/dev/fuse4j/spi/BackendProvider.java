package dev.fuse4j.spi;

import dev.fuse4j.Backend;
import dev.fuse4j.BackendStatus;
import dev.fuse4j.BackendUnavailableException;

import java.util.List;

/**
 * How a backend module plugs into {@link dev.fuse4j.Backends}: list an implementation in
 * {@code META-INF/services/dev.fuse4j.spi.BackendProvider}. Core never imports a backend.
 */
public interface BackendProvider {

    /** The family name users type: {@code cpu}, {@code opencl}, {@code cuda}. Devices are {@code name:N}. */
    String name();

    /** Order tried by {@link dev.fuse4j.Backends#select()} among devices of one kind: higher first. */
    int priority();

    /**
     * One status per device, in the order {@code name:N} numbers them, each with its {@link dev.fuse4j.DeviceKind};
     * a single unavailable status naming the reason (and keeping the error, if one caused it) when there is no
     * device or no driver. Never throws, and loads no more native code than it must.
     */
    List<BackendStatus> probe();

    /**
     * Opens device {@code index} (in {@link #probe()} order). {@link dev.fuse4j.Backends} calls it once per device
     * (again only after a failure) and keeps what it returns for the life of the process: a provider need not cache.
     *
     * @throws BackendUnavailableException with the reason when the device cannot run here
     */
    Backend open(int index);
}
