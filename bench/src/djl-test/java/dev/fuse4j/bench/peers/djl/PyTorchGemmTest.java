package dev.fuse4j.bench.peers.djl;

import ai.djl.pytorch.jni.JniUtils;
import dev.fuse4j.bench.peers.LibraryGemm;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** PyTorch's matmul for the peak and the GEMM-alone rows runs at the threads asked for, puts PyTorch's count back, and
 * takes rectangular shapes. */
class PyTorchGemmTest {

    @Test
    void aProductRunsAtTheThreadsAskedForAndRestoresTheCount() {
        LibraryGemm gemm = new PyTorchPeer().gemm().orElseThrow();
        assertEquals("pytorch matmul", gemm.label());
        int before = JniUtils.getNumThreads();
        int other = before == 1 ? 2 : 1;
        try (LibraryGemm.Product p = gemm.prepare(64, other)) {
            assertEquals(other, JniUtils.getNumThreads());
            p.run();
        }
        assertEquals(before, JniUtils.getNumThreads());
        assertThrows(IllegalArgumentException.class, () -> gemm.prepare(64, 0));
    }

    /** A product with three different sides runs: PyTorch refuses a product whose inner sides differ. */
    @Test
    void aRectangularProductRuns() {
        LibraryGemm gemm = new PyTorchPeer().gemm().orElseThrow();
        assertEquals(JniUtils.getNumThreads(), gemm.threads());
        for (int[] mnk : new int[][] {{3, 50, 7}, {50, 3, 7}, {7, 3, 50}}) {
            try (LibraryGemm.Product p = gemm.prepare(mnk[0], mnk[1], mnk[2], 1)) {
                p.run();
            }
        }
        assertThrows(IllegalArgumentException.class, () -> gemm.prepare(3, 5, 0, 1));
    }
}
