package dev.fuse4j.kernels;

import java.util.Arrays;

/**
 * A backend call in words, for the message of a failure in its queued work: made on every call, so it keeps the
 * parts and formats them only when printed.
 *
 * @param op      the operation ({@code linear}, {@code sgdStep}, ...)
 * @param details what tells this call from others: shapes, activation, dropout
 */
public record CallName(String op, Object... details) {

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(op);
        for (Object d : details) {
            s.append(' ');
            if (d instanceof int[] shape) {
                s.append(Arrays.toString(shape));
            } else {
                s.append(d);
            }
        }
        return s.toString();
    }
}
