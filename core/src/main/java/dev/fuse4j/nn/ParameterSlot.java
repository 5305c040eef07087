package dev.fuse4j.nn;

import java.util.Arrays;

/**
 * Where one parameter lies in a model's flat parameter or gradient array ({@link Sequential#parameterLayout()}):
 * its values, row-major in {@code shape}, are elements {@code [offset, offset + size())}.
 *
 * @param name   the parameter's name, such as {@code layer0.weight}
 * @param shape  its dimensions, outermost first
 * @param offset the index of its first value in the flat array
 */
public record ParameterSlot(String name, int[] shape, int offset) {

    public ParameterSlot {
        shape = shape.clone();
    }

    /** A copy of the dimensions. */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** How many values it holds: the product of its shape. */
    public int size() {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParameterSlot s && s.name.equals(name) && Arrays.equals(s.shape, shape)
                && s.offset == offset;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * name.hashCode() + Arrays.hashCode(shape)) + offset;
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + "@" + offset;
    }
}
