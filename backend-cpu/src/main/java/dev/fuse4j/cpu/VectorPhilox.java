package dev.fuse4j.cpu;

import dev.fuse4j.Dropout;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Philox4x32-10 in vector lanes: one lane per Philox block (four mask elements). Each 32-bit word sits in the low
 * half of a 64-bit lane, so the round's 32×32→64 products are exact lane multiplies (the JIT turns a multiply of
 * zero-extended 32-bit values into a single unsigned 32-bit multiply instruction). Bit-exact with
 * {@link dev.fuse4j.Philox}. Not thread-safe: one instance per worker task.
 */
final class VectorPhilox {
    private static final VectorSpecies<Long> LS = LongVector.SPECIES_PREFERRED;
    private static final int LANES = LS.length();
    private static final long M32 = 0xFFFFFFFFL;
    private static final long M0 = 0xD2511F53L;
    private static final long M1 = 0xCD9E8D57L;
    private static final long W0 = 0x9E3779B9L;
    private static final long W1 = 0xBB67AE85L;
    private static final LongVector IOTA = LongVector.zero(LS).addIndex(1);

    private final long k0;
    private final long k1;
    private final long off0;
    private final long off1;
    private final long threshold;
    private final long[] words = new long[4 * LANES];

    VectorPhilox(Dropout d) {
        this.k0 = d.seed() & M32;
        this.k1 = d.seed() >>> 32;
        this.off0 = d.offset() & M32;
        this.off1 = d.offset() >>> 32;
        this.threshold = d.threshold();
    }

    /** Writes whether flat elements {@code e0 .. e0+count-1} are kept into {@code keep[at ..]}. */
    void keepRun(long e0, int count, boolean[] keep, int at) {
        long qFirst = e0 >>> 2;
        long qLast = (e0 + count - 1) >>> 2;
        for (long qb = qFirst; qb <= qLast; qb += LANES) {
            blocks(qb);
            long eFrom = Math.max(e0, qb << 2);
            long eTo = Math.min(e0 + count, (qb + LANES) << 2);
            for (long e = eFrom; e < eTo; e++) {
                int lane = (int) ((e >>> 2) - qb);
                keep[at + (int) (e - e0)] = words[(int) (e & 3) * LANES + lane] >= threshold;
            }
        }
    }

    /** Philox of blocks {@code qb .. qb+LANES-1}; word w of lane l lands in {@code words[w*LANES + l]}. */
    private void blocks(long qb) {
        LongVector q = IOTA.add(qb);
        LongVector c0 = q.and(M32);
        LongVector c1 = q.lanewise(VectorOperators.LSHR, 32);
        LongVector c2 = LongVector.broadcast(LS, off0);
        LongVector c3 = LongVector.broadcast(LS, off1);
        long key0 = k0;
        long key1 = k1;
        for (int r = 0; r < 10; r++) {
            LongVector p0 = c0.mul(M0);
            LongVector p1 = c2.mul(M1);
            LongVector n0 = p1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c1)
                    .lanewise(VectorOperators.XOR, key0);
            LongVector n2 = p0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c3)
                    .lanewise(VectorOperators.XOR, key1);
            c1 = p1.and(M32);
            c3 = p0.and(M32);
            c0 = n0;
            c2 = n2;
            key0 = (key0 + W0) & M32;
            key1 = (key1 + W1) & M32;
        }
        c0.intoArray(words, 0);
        c1.intoArray(words, LANES);
        c2.intoArray(words, 2 * LANES);
        c3.intoArray(words, 3 * LANES);
    }
}
