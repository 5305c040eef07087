package dev.fuse4j.cpu;

import dev.fuse4j.Dropout;
import dev.fuse4j.Philox;

/**
 * Keep decisions for four consecutive flat elements at a time: one Philox block serves elements {@code 4q..4q+3},
 * as the contract lays out the counter. Not thread-safe: one per worker.
 */
final class MaskBlock {
    private final Dropout d;
    private final boolean training;
    private final long threshold;
    private final int[] words = new int[4];
    private long block = -1;

    MaskBlock(Dropout d) {
        this.d = d;
        this.training = d.training();
        this.threshold = d.threshold();
    }

    boolean keep(long e) {
        if (!training) {
            return true;
        }
        long q = e >>> 2;
        if (q != block) {
            Philox.block((int) q, (int) (q >>> 32), (int) d.offset(), (int) (d.offset() >>> 32),
                    (int) d.seed(), (int) (d.seed() >>> 32), words);
            block = q;
        }
        return (words[(int) (e & 3)] & 0xFFFFFFFFL) >= threshold;
    }
}
