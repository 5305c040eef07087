package dev.fuse4j;

/**
 * What a backend device is. It orders {@link Backends#select()}: GPUs and accelerators first, then the backends that
 * compute in Java on the host CPU, and last a CPU driven through a device driver (OpenCL on the CPU), which the Java
 * backend outruns on the same cores; such a device runs when it is named or when nothing else can.
 */
public enum DeviceKind {
    /** A graphics processor. */
    GPU,
    /** Another offload device, such as an OpenCL accelerator. */
    ACCELERATOR,
    /** The host CPU, computed on by Java code in this process (the {@code cpu} backends). */
    JAVA,
    /** The host CPU behind a device driver, such as OpenCL on the CPU (PoCL). */
    CPU;

    /** Whether the device is this machine's CPU, whose measured peak applies to it. */
    public boolean isHostCpu() {
        return this == JAVA || this == CPU;
    }
}
