package dev.fuse4j;

/** Gradients of the fused layer: {@code dx [n, in]}, {@code dw [out, in]}, {@code db [out]}. Closing closes all three. */
public record LinearGrads(Tensor dx, Tensor dw, Tensor db) implements AutoCloseable {

    @Override
    public void close() {
        try {
            dx.close();
        } finally {
            try {
                dw.close();
            } finally {
                db.close();
            }
        }
    }
}
