package dev.fuse4j.cpu;

import dev.fuse4j.Backend;
import dev.fuse4j.spi.TensorBase;

/** A tensor in a Java heap array: nothing to free, but it still counts as live until closed. */
final class CpuTensor extends TensorBase {
    /** Row-major values; backends of this module read and write it directly. */
    final float[] data;

    CpuTensor(Backend owner, float[] data, int[] shape) {
        super(owner, shape, null);
        this.data = data;
    }

    @Override
    protected float[] read() {
        return data.clone();
    }
}
