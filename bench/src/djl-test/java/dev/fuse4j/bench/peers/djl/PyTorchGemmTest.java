package dev.fuse4j.bench.peers.djl;

import ai.djl.pytorch.jni.JniUtils;
import dev.fuse4j.bench.peers.LibraryGemm;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** PyTorch's matmul for the peak runs at the threads asked for and puts PyTorch's count back. */
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
}
