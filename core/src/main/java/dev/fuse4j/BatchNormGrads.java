package dev.fuse4j;

/**
 * Gradients of batch normalisation beside the fused layer: {@code dz [n, out]}, the gradient of the layer's
 * pre-normalisation output {@code z = x·Wᵀ + b}, and {@code dgamma [out]}, {@code dbeta [out]}. Closing closes all
 * three.
 */
public record BatchNormGrads(Tensor dz, Tensor dgamma, Tensor dbeta) implements AutoCloseable {

    @Override
    public void close() {
        try {
            dz.close();
        } finally {
            try {
                dgamma.close();
            } finally {
                dbeta.close();
            }
        }
    }
}
