package dev.fuse4j.spi;

import java.util.Arrays;

/** Shape arithmetic and checks with messages that name the offending values. */
public final class Shapes {
    /** The most elements a tensor may have: the longest array the JVM allocates. */
    public static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private Shapes() {
    }

    /** Checks that every dimension is at least 1 and the element count fits an int; returns the count. */
    public static int checkedSize(int[] shape) {
        if (shape == null) {
            throw new IllegalArgumentException("shape is null");
        }
        if (shape.length == 0) {
            throw new IllegalArgumentException("shape is empty: give at least one dimension");
        }
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative dimension " + d);
            }
            if (d == 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape)
                        + " has a zero dimension: every dimension must be at least 1");
            }
            n *= d;
            if (n > MAX_ELEMENTS) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape)
                        + " has more than 2^31 - 9 elements, the most a Java array holds");
            }
        }
        return (int) n;
    }

    /** The element count of {@code shape}, unchecked: the product of its dimensions. */
    public static long size(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }
}
