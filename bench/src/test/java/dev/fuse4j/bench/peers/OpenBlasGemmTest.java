package dev.fuse4j.bench.peers;

import dev.fuse4j.contract.Required;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The OpenBLAS SGEMM the peak is measured with runs at the thread count asked for, and puts the count back. */
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
    }
}
