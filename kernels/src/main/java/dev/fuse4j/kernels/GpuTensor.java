package dev.fuse4j.kernels;

import dev.fuse4j.Backend;
import dev.fuse4j.spi.TensorBase;

import java.nio.FloatBuffer;

/**
 * A tensor in one buffer of a GPU backend's device; {@code close()} (or the Cleaner, as a safety net) gives the
 * buffer back to the device, which keeps it for any queued work that still uses it. Copies to and from the host go
 * through the device (see docs/DESIGN.md, "How the GPU backends run work").
 *
 * @param <B> the device's buffer handle
 */
public abstract class GpuTensor<B> extends TensorBase {
    private final GpuDevice<B> device;
    private final B buffer;

    protected GpuTensor(Backend owner, GpuDevice<B> device, B buffer, int[] shape) {
        super(owner, shape, () -> device.free(buffer));
        this.device = device;
        this.buffer = buffer;
    }

    /** The device buffer. */
    public final B buffer() {
        return buffer;
    }

    @Override
    protected final float[] read() {
        return device.read(buffer, (int) size(), new CallName("toArray", shapeView()));
    }

    @Override
    protected final void write(FloatBuffer src) {
        device.write(buffer, src, new CallName("copyFrom", shapeView()));
    }

    @Override
    @SuppressWarnings("unchecked") // the same class and backend as this one (TensorBase.copyFrom checked)
    protected final void copyWithin(TensorBase src) {
        device.copy(((GpuTensor<B>) src).buffer, buffer, size(), new CallName("copyFrom", shapeView()));
    }

    @Override
    protected final void readInto(FloatBuffer dst) {
        device.readInto(buffer, dst, new CallName("copyTo", shapeView()));
    }
}
