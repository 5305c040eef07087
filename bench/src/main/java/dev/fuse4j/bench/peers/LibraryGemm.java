package dev.fuse4j.bench.peers;

/**
 * A peer library's own single-precision matrix product, which {@code compare} times beside its FMA loop so that the
 * machine's peak is never below what a library reaches on it. Only the library call is here; the timing is the
 * caller's.
 */
public interface LibraryGemm {

    /** What is multiplied, for the report: {@code openblas sgemm}, {@code pytorch matmul}. */
    String label();

    /**
     * Makes two {@code size × size} matrices and sets the library to {@code threads} threads until the returned
     * product is closed, which frees them and restores the library's previous thread count.
     *
     * @throws IllegalArgumentException when {@code size} or {@code threads} is below 1
     */
    Product prepare(int size, int threads);

    /** Two square matrices ready to multiply, and the thread count the library runs them on. */
    interface Product extends AutoCloseable {

        /** One product of the two matrices ({@code 2·size³} flops), done when the call returns. */
        void run();

        /** Frees the matrices and puts the library's thread count back. */
        @Override
        void close();
    }

    /** Refuses sizes and thread counts below 1, naming the value. */
    static void checkArguments(int size, int threads) {
        if (size < 1) {
            throw new IllegalArgumentException("a GEMM size must be at least 1 but is " + size);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("a GEMM needs at least 1 thread but was given " + threads);
        }
    }
}
