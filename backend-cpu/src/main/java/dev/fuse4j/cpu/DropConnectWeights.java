package dev.fuse4j.cpu;

import dev.fuse4j.Dropout;
import dev.fuse4j.PhiloxMask;

/**
 * DropConnect's mask on the scalar path, applied to each weight as a loop reads it ({@link #load}) and to each
 * weight gradient as it is stored ({@link #store}), so the masked weights never exist as an array. Without
 * DropConnect both return their value unchanged. Not thread-safe: one per thread.
 */
final class DropConnectWeights {
    private final boolean on;
    private final float scale;
    private final PhiloxMask mask;

    DropConnectWeights(Dropout d) {
        this.on = d.dropConnect();
        this.scale = d.scale();
        this.mask = PhiloxMask.weights(d);
    }

    /** Weight element {@code k} of {@code w} as the call multiplies by it: {@code w[k]·s} where kept, else 0. */
    float load(float[] w, int k) {
        return !on ? w[k] : mask.keep(k) ? w[k] * scale : 0f;
    }

    /** The gradient {@code g} of weight element {@code k} as stored: {@code g·s} where kept, else 0. */
    float store(float g, int k) {
        return !on ? g : mask.keep(k) ? g * scale : 0f;
    }
}
