package dev.fuse4j.cpu;

import dev.fuse4j.Backend;
import dev.fuse4j.spi.TensorBase;

import java.nio.FloatBuffer;

/** A tensor in a Java heap array: nothing to free, but it still counts as live until closed. */
final class CpuTensor extends TensorBase {
    /** Row-major values; backends of this module read and write it directly. */
    final float[] data;
    /** Packed copies of {@link #data} for the GEMM; whoever writes {@code data} in place must invalidate it. */
    final PackedCache packs;

    /** {@code data} goes back to {@code recycler} once the tensor is closed (or dropped). */
    CpuTensor(Backend owner, float[] data, int[] shape, ArrayRecycler recycler) {
        this(owner, data, shape, new PackedCache(), recycler);
    }

    // The cache is made before super() so that the release action can hold it (and never the tensor itself).
    private CpuTensor(Backend owner, float[] data, int[] shape, PackedCache packs, ArrayRecycler recycler) {
        super(owner, shape, () -> {
            packs.release();
            recycler.give(data);
        });
        this.data = data;
        this.packs = packs;
    }

    /**
     * PReLU's slopes of {@code act} as this module's array, or null for every other activation; the caller's
     * backend checked that the slope tensor is its own.
     */
    static float[] slopes(dev.fuse4j.Activation act) {
        return act.slope() == null ? null : ((CpuTensor) act.slope()).data;
    }

    @Override
    protected float[] read() {
        return data.clone();
    }

    /** Straight into the array: calls run to their end before returning, so no work is still reading it. */
    @Override
    protected void write(FloatBuffer src) {
        src.get(0, data);
        packs.invalidate();
    }

    @Override
    protected void copyWithin(TensorBase src) {
        System.arraycopy(((CpuTensor) src).data, 0, data, 0, data.length);
        packs.invalidate();
    }

    @Override
    protected void readInto(FloatBuffer dst) {
        dst.put(0, data);
    }
}
