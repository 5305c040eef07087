package dev.fuse4j;

/**
 * Gradients of the fused layer: {@code dx [n, in]}, {@code dw [out, in]}, {@code db [out]}. {@code dx} is null when
 * the caller asked to skip it. Closing closes all of them.
 */
public record LinearGrads(Tensor dx, Tensor dw, Tensor db) implements AutoCloseable {

    @Override
    public void close() {
        try {
            if (dx != null) {
                dx.close();
            }
        } finally {
            try {
                dw.close();
            } finally {
                db.close();
            }
        }
    }
}
