package dev.fuse4j.bench.peers;

/**
 * A peer library's own single-precision matrix product, which {@code compare} times beside its FMA loop so that the
 * machine's peak is never below what a library reaches on it, and alone at each shape, so a backend's forward can be
 * set against the bare product it fuses an epilogue onto. Only the library call is here; the timing is the caller's.
 */
public interface LibraryGemm {

    /** What is multiplied, for the report: {@code openblas sgemm}, {@code pytorch matmul}. */
    String label();

    /** The threads the library runs a call on now, which its peer's rows in the table ran with. */
    int threads();

    /**
     * Makes row-major {@code A[m×k]} and {@code W[n×k]} of random numbers and sets the library to {@code threads}
     * threads until the returned product is closed, which frees them and restores the library's previous thread
     * count. Each run is {@code C[m×n] = A·Wᵀ}, {@code 2·m·n·k} flops: the layer's forward product {@code x·wᵀ}, with
     * W stored as the layer stores it.
     *
     * @throws IllegalArgumentException when a dimension or {@code threads} is below 1
     */
    Product prepare(int m, int n, int k, int threads);

    /** {@link #prepare(int, int, int, int)} on two {@code size × size} matrices. */
    default Product prepare(int size, int threads) {
        return prepare(size, size, size, threads);
    }

    /** Two matrices ready to multiply, and the thread count the library runs them on. */
    interface Product extends AutoCloseable {

        /** One product of the two matrices, done when the call returns. */
        void run();

        /** Frees the matrices and puts the library's thread count back. */
        @Override
        void close();
    }

    /** Refuses dimensions and thread counts below 1, naming the value. */
    static void checkArguments(int m, int n, int k, int threads) {
        if (m < 1 || n < 1 || k < 1) {
            throw new IllegalArgumentException("GEMM dimensions must be at least 1 but are m " + m + ", n " + n
                    + ", k " + k);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("a GEMM needs at least 1 thread but was given " + threads);
        }
    }
}
