package dev.fuse4j;

/**
 * Gradients of the fused layer: {@code dx [n, in]}, {@code dw [out, in]}, {@code db [out]}, and for PReLU the
 * gradient of its slopes {@code da [out]} (null for every other activation). {@code dx} is null when the caller
 * asked to skip it. Closing closes all of them.
 */
public record LinearGrads(Tensor dx, Tensor dw, Tensor db, Tensor da) implements AutoCloseable {

    /** The gradients of an activation without parameters: {@code da} is null. */
    public LinearGrads(Tensor dx, Tensor dw, Tensor db) {
        this(dx, dw, db, null);
    }

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
                try {
                    db.close();
                } finally {
                    if (da != null) {
                        da.close();
                    }
                }
            }
        }
    }
}
