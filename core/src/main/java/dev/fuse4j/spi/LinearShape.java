package dev.fuse4j.spi;

/** Sizes of one fused linear call: {@code x [n, in]}, {@code w [out, in]}, {@code y [n, out]}; each at least 1. */
public record LinearShape(int n, int in, int out) {

    public LinearShape {
        if (n < 1 || in < 1 || out < 1) {
            throw new IllegalArgumentException("shape " + n + "x" + in + "->" + out + ": every size must be >= 1");
        }
    }

    /** Floating-point operations of one forward: multiply-adds counted twice, {@code 2·n·in·out}. */
    public double flops() {
        return 2.0 * n * in * out;
    }

    /** Bytes a forward must move at least: x, w and b in, y out, as float32. */
    public double minBytes() {
        return 4.0 * ((double) n * in + (double) out * in + out + (double) n * out);
    }

    /** {@code NxIN->OUT}, as the benchmarks print and parse it. */
    @Override
    public String toString() {
        return n + "x" + in + "->" + out;
    }
}
