package dev.fuse4j.opencl;

import java.util.List;

/**
 * Tile sizes of the GEMM kernel, chosen from the device's limits: the largest configuration whose work-group fits
 * {@code CL_DEVICE_MAX_WORK_GROUP_SIZE} (and the kernel's own limit after the build) and whose two local tiles fit
 * {@code CL_DEVICE_LOCAL_MEM_SIZE}. Each work-item computes {@code rm × 4} outputs.
 */
record TileConfig(int tm, int tn, int tk, int rm) {

    /** Largest first. */
    static final List<TileConfig> CANDIDATES = List.of(
            new TileConfig(64, 64, 16, 4),   // 16 × 16 = 256 work-items, 8 KiB local
            new TileConfig(32, 32, 16, 4),   //  8 ×  8 =  64 work-items, 4 KiB local
            new TileConfig(16, 16, 8, 4),    //  4 ×  4 =  16 work-items, 1 KiB local
            new TileConfig(4, 4, 4, 4));     //  1 ×  1 =   1 work-item

    int workGroupX() {
        return tn / 4;
    }

    int workGroupY() {
        return tm / rm;
    }

    int workGroupSize() {
        return workGroupX() * workGroupY();
    }

    long localBytes() {
        return 4L * tk * (tm + tn);
    }

    boolean fits(long maxWorkGroup, long localMem) {
        return workGroupSize() <= maxWorkGroup && localBytes() <= localMem;
    }

    static TileConfig choose(long maxWorkGroup, long localMem) {
        for (TileConfig c : CANDIDATES) {
            if (c.fits(maxWorkGroup, localMem)) {
                return c;
            }
        }
        throw new IllegalStateException("no GEMM tile fits a device with max work-group " + maxWorkGroup
                + " and " + localMem + " bytes of local memory");
    }

    String buildOptions() {
        return "-DTM=" + tm + " -DTN=" + tn + " -DTK=" + tk + " -DRM=" + rm;
    }
}
