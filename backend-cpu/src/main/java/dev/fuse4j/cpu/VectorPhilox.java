package dev.fuse4j.cpu;

import dev.fuse4j.Dropout;
import dev.fuse4j.Philox;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Philox4x32-10 in vector lanes, answering the mask of a run of consecutive elements as a bit set. One lane holds
 * one Philox block (four mask elements); each 32-bit word sits in the low half of a 64-bit lane, so the round's
 * 32×32→64 products are exact lane multiplies of zero-extended values (one unsigned 32-bit multiply instruction, see
 * {@link #mulWords}). The four words' comparisons against the threshold come out as four lane masks whose bits
 * are interleaved with {@link Long#expand} (one {@code pdep}) into element order. Bit-exact with
 * {@link Philox}. Immutable, so one instance serves every thread of a call.
 */
final class VectorPhilox {
    /** Long lanes as wide as the float vectors the backend computes with. */
    private static final VectorSpecies<Long> LS = VectorSpecies.of(long.class, Tuning.S.vectorShape());
    /** Blocks per vector evaluation. */
    private static final int LANES = LS.length();
    /** Elements per vector evaluation: four per block. At most 64, so they fit one {@code long} of bits. */
    static final int SPAN = 4 * Math.min(LANES, 16);
    private static final long M32 = 0xFFFFFFFFL;
    /** The round multipliers and key increments of {@link Philox}, zero-extended to 64-bit lanes. */
    private static final long M0 = Philox.M0 & M32;
    private static final long M1 = Philox.M1 & M32;
    private static final long W0 = Philox.W0 & M32;
    private static final long W1 = Philox.W1 & M32;
    /** Bit positions of word 0 of every block in the element-ordered bit set. */
    private static final long WORD0_BITS = 0x1111111111111111L;
    private static final LongVector IOTA = LongVector.zero(LS).addIndex(1);

    private final long k0;
    private final long k1;
    private final long off0;
    private final long off1;
    private final long threshold;
    /** The call's element base: the contract's index of the call's element 0. */
    private final long base;
    /** Channel and variational dropout's mapping from elements to mask indices (see {@link Dropout#maskIndex}). */
    private final Dropout d;
    private final boolean elementwise;
    private final long period;

    /** Or'ed into the counter's second word: 0 for the output mask, {@link Philox#WEIGHT_STREAM} for DropConnect's. */
    private final long stream;

    /** The output mask of {@code d}. */
    VectorPhilox(Dropout d) {
        this(d, d.elementBase(), 0L);
    }

    private VectorPhilox(Dropout d, long base, long stream) {
        this.k0 = d.seed() & M32;
        this.k1 = d.seed() >>> 32;
        this.off0 = d.offset() & M32;
        this.off1 = d.offset() >>> 32;
        this.threshold = d.threshold();
        this.base = base;
        this.stream = stream;
        this.d = d;
        this.elementwise = d.elementwise();
        this.period = d.maskPeriod();
    }

    /** DropConnect's weight mask of {@code d}, element {@code k = o·in + c} of the weight (no element base). */
    static VectorPhilox weights(Dropout d) {
        return new VectorPhilox(d, 0L, Philox.WEIGHT_STREAM & M32);
    }

    /**
     * The mask of the call's flat elements {@code e .. e+count-1} ({@code count ≤ 64}): bit {@code c} is set when
     * element {@code e + c} is kept.
     */
    long keepBits(long e, int count) {
        long g = base + e;
        if (elementwise) {
            return keepBitsOfIndices(g, count);
        }
        if (d.featuresPerChannel() > 1) {
            return keepBitsOneByOne(g, count);
        }
        // Variational alone: the mask indices run consecutively between the wraps of the period.
        long bits = 0;
        for (int done = 0; done < count; ) {
            long m = (g + done) % period;
            int run = (int) Math.min(count - done, period - m);
            bits |= keepBitsOfIndices(m, run) << done;
            done += run;
        }
        return bits;
    }

    /**
     * The masks of two runs of {@code count ≤ }{@link #SPAN} elements, from {@code e0} and from {@code e1} (two rows of
     * a tile), in one value: {@code e0}'s bits low, {@code e1}'s from bit {@link #SPAN} ({@code 2·SPAN ≤ 64}, so
     * only where a span is at most 32 elements). Where both runs are a whole span of the element-wise mask starting on
     * a Philox block, their round chains run side by side ({@link #keepBitsAligned2}): one chain at a time, each
     * round waits on its multiply, and a tile's rows left the forward 10 % slower in training than in evaluation.
     */
    long keepBitsOfTwo(long e0, long e1, int count) {
        long g0 = base + e0;
        long g1 = base + e1;
        if (elementwise && count == SPAN && ((g0 | g1) & 3) == 0) {
            return keepBitsAligned2(g0, g1);
        }
        return keepBits(e0, count) | keepBits(e1, count) << SPAN;
    }

    /**
     * Channel dropout: element by element through {@link Dropout#maskIndex}, one scalar Philox block per four
     * distinct mask indices, which a channel of several columns draws once.
     */
    private long keepBitsOneByOne(long g, int count) {
        int[] words = new int[4];
        long cached = -1;
        long bits = 0;
        for (int c = 0; c < count; c++) {
            long m = d.maskIndex(g + c);
            long q = m >>> 2;
            if (q != cached) {
                Philox.block((int) q, (int) (q >>> 32) | (int) stream, (int) off0, (int) off1, (int) k0, (int) k1,
                        words);
                cached = q;
            }
            if ((words[(int) (m & 3)] & M32) >= threshold) {
                bits |= 1L << c;
            }
        }
        return bits;
    }

    /** The mask of the consecutive mask indices {@code e0 .. e0+count-1} ({@code count ≤ 64}) as bits. */
    private long keepBitsOfIndices(long e0, int count) {
        long first = e0 & ~3L;
        int skip = (int) (e0 - first);
        long bits = 0;
        int have = -skip;
        // An unaligned start (rows whose length is not a multiple of 4) or a long run needs more than one span; two
        // spans at a time are evaluated side by side, so their round chains overlap.
        while (have < count) {
            long at = first + have + skip;
            long more = count - have > SPAN ? keepBitsAligned2(at, at + SPAN) : keepBitsAligned(at);
            bits |= have < 0 ? more >>> -have : more << have;
            have += count - have > SPAN ? 2 * SPAN : SPAN;
        }
        return count == 64 ? bits : bits & ((1L << count) - 1);
    }

    /**
     * The exact 64-bit products of 32-bit words in the lanes' low halves and the constant {@code m}. Both factors are
     * masked to 32 bits although their high halves are already zero: only then does C2 emit one unsigned 32×32→64
     * multiply per lane ({@code vpmuludq}) instead of a full 64-bit multiply (five instructions on AVX2).
     */
    private static LongVector mulWords(LongVector words, long m) {
        return words.and(M32).mul(LongVector.broadcast(LS, m).and(M32));
    }

    /** The mask of the {@link #SPAN} elements from {@code e0}, a multiple of 4, as bits in element order. */
    private long keepBitsAligned(long e0) {
        LongVector q = IOTA.add(e0 >>> 2);
        LongVector c0 = q.and(M32);
        LongVector c1 = q.lanewise(VectorOperators.LSHR, 32).or(stream);
        LongVector c2 = LongVector.broadcast(LS, off0);
        LongVector c3 = LongVector.broadcast(LS, off1);
        long key0 = k0;
        long key1 = k1;
        for (int r = 0; r < Philox.ROUNDS; r++) {
            LongVector p0 = mulWords(c0, M0);
            LongVector p1 = mulWords(c2, M1);
            c0 = p1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c1)
                    .lanewise(VectorOperators.XOR, key0);
            c2 = p0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c3)
                    .lanewise(VectorOperators.XOR, key1);
            c1 = p1.and(M32);
            c3 = p0.and(M32);
            key0 = (key0 + W0) & M32;
            key1 = (key1 + W1) & M32;
        }
        // Words are zero-extended and threshold ≤ 2^32, so a signed 64-bit compare is the unsigned 32-bit one.
        long w0 = c0.compare(VectorOperators.GE, threshold).toLong();
        long w1 = c1.compare(VectorOperators.GE, threshold).toLong();
        long w2 = c2.compare(VectorOperators.GE, threshold).toLong();
        long w3 = c3.compare(VectorOperators.GE, threshold).toLong();
        return Long.expand(w0, WORD0_BITS) | Long.expand(w1, WORD0_BITS << 1)
                | Long.expand(w2, WORD0_BITS << 2) | Long.expand(w3, WORD0_BITS << 3);
    }

    /**
     * As {@link #keepBitsAligned}, for the spans from {@code e0} and from {@code e1} (both multiples of 4) in one
     * round loop: {@code e0}'s bits low, {@code e1}'s in the next {@link #SPAN} bits.
     */
    private long keepBitsAligned2(long e0, long e1) {
        LongVector q = IOTA.add(e0 >>> 2);
        LongVector r = IOTA.add(e1 >>> 2);
        LongVector c0 = q.and(M32);
        LongVector c1 = q.lanewise(VectorOperators.LSHR, 32).or(stream);
        LongVector d0 = r.and(M32);
        LongVector d1 = r.lanewise(VectorOperators.LSHR, 32).or(stream);
        LongVector c2 = LongVector.broadcast(LS, off0);
        LongVector c3 = LongVector.broadcast(LS, off1);
        LongVector d2 = c2;
        LongVector d3 = c3;
        long key0 = k0;
        long key1 = k1;
        for (int round = 0; round < Philox.ROUNDS; round++) {
            LongVector p0 = mulWords(c0, M0);
            LongVector p1 = mulWords(c2, M1);
            LongVector s0 = mulWords(d0, M0);
            LongVector s1 = mulWords(d2, M1);
            c0 = p1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c1)
                    .lanewise(VectorOperators.XOR, key0);
            c2 = p0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c3)
                    .lanewise(VectorOperators.XOR, key1);
            d0 = s1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, d1)
                    .lanewise(VectorOperators.XOR, key0);
            d2 = s0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, d3)
                    .lanewise(VectorOperators.XOR, key1);
            c1 = p1.and(M32);
            c3 = p0.and(M32);
            d1 = s1.and(M32);
            d3 = s0.and(M32);
            key0 = (key0 + W0) & M32;
            key1 = (key1 + W1) & M32;
        }
        // The comparisons are written out here, not shared with keepBitsAligned through a method: a method taking the
        // vectors was not inlined in this large body (C2's node-count cutoff), and its vectors were then boxed.
        long w0 = c0.compare(VectorOperators.GE, threshold).toLong()
                | d0.compare(VectorOperators.GE, threshold).toLong() << LANES;
        long w1 = c1.compare(VectorOperators.GE, threshold).toLong()
                | d1.compare(VectorOperators.GE, threshold).toLong() << LANES;
        long w2 = c2.compare(VectorOperators.GE, threshold).toLong()
                | d2.compare(VectorOperators.GE, threshold).toLong() << LANES;
        long w3 = c3.compare(VectorOperators.GE, threshold).toLong()
                | d3.compare(VectorOperators.GE, threshold).toLong() << LANES;
        return Long.expand(w0, WORD0_BITS) | Long.expand(w1, WORD0_BITS << 1)
                | Long.expand(w2, WORD0_BITS << 2) | Long.expand(w3, WORD0_BITS << 3);
    }
}
