package dev.fuse4j.cpu;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Packed copies of one tensor's values in the GEMM's B layout, kept on the tensor between calls: a layer's weight
 * is the same tensor call after call, and repacking it is a visible share of a forward at the smaller shapes
 * (docs/performance.md has the figures).
 *
 * <p>Correctness rests on three things. Tensors are immutable after creation except for the optimizer steps, which
 * call {@link #invalidate()} on every tensor they write, so a copy made at an older {@link #version()} is never
 * used. The cache belongs to one tensor object, so a tensor that is closed and replaced by a new one (even over
 * reused memory) starts with an empty cache; {@link #release()} (run by the tensor's close) drops the copies so
 * their memory goes with the tensor. And a copy is only made on the second use at the same version: a training
 * loop, whose weights change after every step, keeps packing into the shared scratch instead of allocating a
 * weight-sized array per step.
 *
 * <p>Calls from several threads may race to fill a slot; each fills it with the same values, so the last write
 * winning is harmless. Writes to the tensor while another thread reads it are outside the API's contract.
 */
final class PackedCache {
    /** The B layouts a tensor is packed in: the forward's {@code wᵀ} and the backward's {@code w}. */
    static final int FORWARD = 0;
    static final int BACKWARD = 1;

    /** One slot's state: {@code packed} is null when the layout was only seen once at {@code version}. */
    private record Entry(int version, int size, float[] packed) {
    }

    private final AtomicReferenceArray<Entry> slots = new AtomicReferenceArray<>(2);
    private volatile int version;
    private volatile boolean released;

    /** The count of in-place writes so far. */
    int version() {
        return version;
    }

    /** Called after every in-place write to the tensor: every copy made before it is stale. */
    void invalidate() {
        version++;
        slots.set(FORWARD, null);
        slots.set(BACKWARD, null);
    }

    /** Called when the tensor is closed: drops the copies, and no new ones are kept. */
    void release() {
        released = true;
        slots.set(FORWARD, null);
        slots.set(BACKWARD, null);
    }

    /** The kept copy of {@code layout} of {@code size} floats at the current version, or null. */
    float[] lookup(int layout, int size) {
        Entry e = slots.get(layout);
        return e != null && e.packed != null && e.version == version && e.size == size ? e.packed : null;
    }

    /**
     * Where a caller that found no copy should pack {@code layout}: a fresh array to keep when the layout was
     * already seen at this version (call {@link #keep} once it is filled), else null (pack into scratch), noting
     * the use.
     */
    float[] claim(int layout, int size) {
        int v = version;
        Entry e = slots.get(layout);
        if (e != null && e.version == v && e.size == size && !released) {
            return new float[size];
        }
        slots.set(layout, new Entry(v, size, null));
        return null;
    }

    /** Keeps {@code packed}, filled from the values at {@code version}, unless the tensor changed or closed since. */
    void keep(int layout, int packedVersion, float[] packed) {
        if (!released && packedVersion == version) {
            slots.set(layout, new Entry(packedVersion, packed.length, packed));
        }
    }

    /** Whether a copy of {@code layout} is kept now (for tests). */
    boolean holds(int layout) {
        Entry e = slots.get(layout);
        return e != null && e.packed != null;
    }
}
