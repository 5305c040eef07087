package dev.fuse4j.cpu;

import dev.fuse4j.Dropout;
import dev.fuse4j.Philox;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link VectorPhilox#keepBits} against the scalar contract ({@link Philox#keep}) for every run length up to 64 and
 * every start within a block: runs longer than one vector evaluation, evaluated two spans at a time, and unaligned
 * starts, as tiles wider than a span ({@code 3x3} at 256 bits, {@code 6x4} at 512) and odd row lengths make them.
 */
class VectorPhiloxTest {

    @Test
    void everyRunLengthAndStartMatchesTheScalarMask() {
        for (Dropout d : new Dropout[] {Dropout.train(0.5f, 42L, 3L), Dropout.train(0.1f, -7L, 1L << 33),
                Dropout.train(0.5f, 9L, 0L).withElementBase(6L)}) {
            VectorPhilox vector = new VectorPhilox(d);
            for (long start : new long[] {0, 1, 2, 3, 4, 61, (1L << 32) - 5}) {
                for (int count = 1; count <= 64; count++) {
                    long expected = 0;
                    for (int c = 0; c < count; c++) {
                        if (Philox.keep(start + c, d)) {
                            expected |= 1L << c;
                        }
                    }
                    long got = vector.keepBits(start, count);
                    assertEquals(expected, got, d + ", " + count + " elements from " + start + ": "
                            + Long.toBinaryString(got) + " against " + Long.toBinaryString(expected));
                }
            }
        }
    }

    /**
     * Two rows' masks drawn together ({@link VectorPhilox#keepBitsOfTwo}) against the scalar contract: whole spans on
     * block starts (side by side), unaligned starts and shorter runs (one after the other), for the element-wise mask
     * with and without an element base, and for variational and channel dropout.
     */
    @Test
    void twoRowsDrawnTogetherMatchTheScalarMask() {
        int span = VectorPhilox.SPAN;
        if (2 * span > 64) {
            return; // a span of more than 32 elements has no two-row form (TileEpilogue draws such rows one by one)
        }
        for (Dropout d : new Dropout[] {Dropout.train(0.5f, 42L, 3L), Dropout.train(0.1f, -7L, 1L << 33),
                Dropout.train(0.5f, 9L, 0L).withElementBase(6L), Dropout.train(0.3f, 5L, 2L).variational(3).withColumns(24),
                Dropout.train(0.4f, 11L, 1L).channels(3)}) {
            VectorPhilox vector = new VectorPhilox(d);
            for (long[] rows : new long[][] {{0, 1024}, {64, 64 + 784}, {4, 36}, {1, 1027}, {(1L << 32) - 8, 1L << 33}}) {
                for (int count : new int[] {span, span - 1, 1}) {
                    long expected = 0;
                    for (int c = 0; c < count; c++) {
                        if (Philox.keep(rows[0] + c, d)) {
                            expected |= 1L << c;
                        }
                        if (Philox.keep(rows[1] + c, d)) {
                            expected |= 1L << (span + c);
                        }
                    }
                    long got = vector.keepBitsOfTwo(rows[0], rows[1], count);
                    assertEquals(expected, got, d + ", " + count + " elements from " + rows[0] + " and " + rows[1]
                            + ": " + Long.toBinaryString(got) + " against " + Long.toBinaryString(expected));
                }
            }
        }
    }
}
