package dev.fuse4j.cpu;

import dev.fuse4j.Backend;
import dev.fuse4j.spi.TensorBase;

/** A tensor in a Java heap array: nothing to free, but it still counts as live until closed. */
final class CpuTensor extends TensorBase {
    /** Row-major values; backends of this module read and write it directly. */
    final float[] data;
    /** Packed copies of {@link #data} for the GEMM; whoever writes {@code data} in place must invalidate it. */
    final PackedCache packs;

    CpuTensor(Backend owner, float[] data, int[] shape) {
        this(owner, data, shape, null);
    }

    /** With {@code recycler}, {@code data} goes back to it once the tensor is closed (or dropped). */
    CpuTensor(Backend owner, float[] data, int[] shape, ArrayRecycler recycler) {
        this(owner, data, shape, new PackedCache(), recycler);
    }

    private CpuTensor(Backend owner, float[] data, int[] shape, PackedCache packs, ArrayRecycler recycler) {
        super(owner, shape, recycler == null ? packs::release : () -> {
            packs.release();
            recycler.give(data);
        });
        this.data = data;
        this.packs = packs;
    }

    @Override
    protected float[] read() {
        return data.clone();
    }
}
