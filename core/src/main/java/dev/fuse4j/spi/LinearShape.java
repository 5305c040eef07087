package dev.fuse4j.spi;

/** Sizes of one fused linear call: {@code x [n, in]}, {@code w [out, in]}, {@code y [n, out]}. */
public record LinearShape(int n, int in, int out) {
    /** Multiply-adds counted twice: the GFLOP/s convention of DESIGN.md. */
    public double flops() {
        return 2.0 * n * in * out;
    }
}
