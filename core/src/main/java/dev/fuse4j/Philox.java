package dev.fuse4j;

/**
 * Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy
 * as 1, 2, 3" (SC'11), as published in Random123. This is the reference every backend's mask must match.
 */
public final class Philox {

    /** Round multipliers and Weyl key increments from the paper (Random123 {@code PHILOX_M4x32_*, PHILOX_W32_*}). */
    public static final int M0 = 0xD2511F53;
    public static final int M1 = 0xCD9E8D57;
    public static final int W0 = 0x9E3779B9;
    public static final int W1 = 0xBB67AE85;
    public static final int ROUNDS = 10;
    /**
     * DropConnect's weight-mask stream: set in the counter's second word ({@code hi32} of the block index), where an
     * output mask's counter always has it clear (its block index {@code e >>> 2} is below 2⁶²), so the two streams
     * of one seed and offset never share a Philox block.
     */
    public static final int WEIGHT_STREAM = 0x80000000;

    private Philox() {
    }

    /**
     * Ten rounds of Philox4x32 on {@code counter4} under {@code key2}.
     *
     * @return a new array of four 32-bit words (unsigned values held in ints)
     */
    public static int[] philox4x32_10(int[] counter4, int[] key2) {
        if (counter4 == null || counter4.length != 4) {
            throw new IllegalArgumentException("counter must have 4 words but has "
                    + (counter4 == null ? "null" : counter4.length));
        }
        if (key2 == null || key2.length != 2) {
            throw new IllegalArgumentException("key must have 2 words but has " + (key2 == null ? "null" : key2.length));
        }
        int[] out = new int[4];
        block(counter4[0], counter4[1], counter4[2], counter4[3], key2[0], key2[1], out);
        return out;
    }

    /** The same without allocation: writes the four output words into {@code out[0..3]}. */
    public static void block(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int r = 0; r < ROUNDS; r++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n1 = (int) p1;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            int n3 = (int) p0;
            c0 = n0;
            c1 = n1;
            c2 = n2;
            c3 = n3;
            k0 += W0;
            k1 += W1;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    /**
     * The dropout mask contract of docs/DESIGN.md for element {@code e} of a call (its flat index in the call's
     * output; {@link Dropout#elementBase()} is added here): whether it is kept. DropConnect keeps every output.
     * Slow (one Philox block per call); backends compute one block per four elements.
     */
    public static boolean keep(long e, Dropout d) {
        return !d.training() || d.dropConnect() || word(e, d) >= d.threshold();
    }

    /**
     * The unsigned Philox word that decides element {@code e} of a call ({@link Dropout#elementBase()} is added):
     * word {@code g & 3} of the block at counter {@code (lo32(g >>> 2), hi32(g >>> 2), lo32(offset), hi32(offset))}
     * under key {@code (lo32(seed), hi32(seed))}, where {@code g} is the mask index
     * {@link Dropout#maskIndex}{@code (elementBase + e)} ({@code elementBase + e} itself for plain dropout).
     */
    public static long word(long e, Dropout d) {
        int[] out = new int[4];
        long g = d.maskIndex(d.elementBase() + e);
        long block = g >>> 2;
        block((int) block, (int) (block >>> 32), (int) d.offset(), (int) (d.offset() >>> 32),
                (int) d.seed(), (int) (d.seed() >>> 32), out);
        return out[(int) (g & 3)] & 0xFFFFFFFFL;
    }

    /**
     * DropConnect's weight mask (docs/DESIGN.md) for weight element {@code k = o·in + c} of a call with
     * {@link Dropout#dropConnect()}: whether it is kept; every weight is kept otherwise. Slow (one block per call).
     */
    public static boolean keepWeight(long k, Dropout d) {
        return !d.dropConnect() || weightWord(k, d) >= d.threshold();
    }

    /**
     * The unsigned Philox word that decides weight element {@code k}: word {@code k & 3} of the block at counter
     * {@code (lo32(k >>> 2), hi32(k >>> 2) | WEIGHT_STREAM, lo32(offset), hi32(offset))} under key
     * {@code (lo32(seed), hi32(seed))}; the element base plays no part.
     */
    public static long weightWord(long k, Dropout d) {
        int[] out = new int[4];
        long block = k >>> 2;
        block((int) block, (int) (block >>> 32) | WEIGHT_STREAM, (int) d.offset(), (int) (d.offset() >>> 32),
                (int) d.seed(), (int) (d.seed() >>> 32), out);
        return out[(int) (k & 3)] & 0xFFFFFFFFL;
    }
}
