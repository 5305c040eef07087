package dev.fuse4j.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The host-side choice of K slices for backward GEMMs (runs without a GPU). */
class SplitKTest {
    @Test
    void fewTilesOverALongKAreSplit() {
        int s = CudaBackend.splitK(4, 65536, 132);       // dw of 65536x256->256 on an H100
        assertEquals(66, s, "about two blocks per SM");
        assertTrue(65536 / s >= 256);
    }

    @Test
    void enoughTilesOrAShortKAreNotSplit() {
        assertEquals(1, CudaBackend.splitK(1024, 4096, 132));
        assertEquals(1, CudaBackend.splitK(4, 300, 132));
        assertEquals(2, CudaBackend.splitK(4, 600, 132), "each slice keeps at least 256 of K");
    }
}
