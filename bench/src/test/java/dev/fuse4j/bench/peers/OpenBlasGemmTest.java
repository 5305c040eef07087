package dev.fuse4j.bench.peers;

import dev.fuse4j.contract.Required;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OpenBLAS SGEMM the peak and the GEMM-alone rows are measured with runs at the thread count asked for, puts the
 * count back, and takes rectangular shapes.
 */
class OpenBlasGemmTest {

    @Test
    void aProductRunsAtTheThreadsAskedForAndRestoresTheLibrarysCount() {
        OpenBlasPeer blas = new OpenBlasPeer();
        Required.assume("openblas", blas.unavailableReason() == null, "OpenBLAS peer: " + blas.unavailableReason());
        LibraryGemm gemm = blas.gemm().orElseThrow(() -> new AssertionError("OpenBLAS loaded but its thread count "
                + "cannot be set: " + blas.description()));
        assertEquals("openblas sgemm", gemm.label());
        int before = blas.threads().orElseThrow();
        int other = before == 1 ? 2 : 1;
        try (LibraryGemm.Product p = gemm.prepare(64, other)) {
            assertEquals(other, blas.threads().orElseThrow(), "set while the product lives");
            p.run();
        }
        assertEquals(before, blas.threads().orElseThrow(), "restored when it is closed");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> gemm.prepare(64, 0));
        assertTrue(e.getMessage().contains("given 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> gemm.prepare(0, 1));
        e = assertThrows(IllegalArgumentException.class, () -> gemm.prepare(3, 0, 5, 1));
        assertTrue(e.getMessage().contains("m 3, n 0, k 5"), e.getMessage());
    }

    /**
     * A product with three different sides runs. Netlib refuses a leading dimension shorter than its matrix's rows,
     * so some mix-ups of the sides fail here; the product's values are not read back.
     */
    @Test
    void aRectangularProductRuns() {
        OpenBlasPeer blas = new OpenBlasPeer();
        Required.assume("openblas", blas.unavailableReason() == null, "OpenBLAS peer: " + blas.unavailableReason());
        LibraryGemm gemm = blas.gemm().orElseThrow();
        for (int[] mnk : new int[][] {{3, 50, 7}, {50, 3, 7}, {7, 3, 50}, {3, 7, 50}}) {
            try (LibraryGemm.Product p = gemm.prepare(mnk[0], mnk[1], mnk[2], 1)) {
                p.run();
            }
        }
    }
}
