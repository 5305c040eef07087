package dev.fuse4j.cuda;

import dev.fuse4j.Activation;
import dev.fuse4j.Dropout;
import dev.fuse4j.kernels.ElementwiseKernels;
import dev.fuse4j.kernels.GpuGemm;
import dev.fuse4j.kernels.Scratch;
import dev.fuse4j.kernels.SplitK;
import dev.fuse4j.spi.LinearShape;
import jcuda.driver.CUdeviceptr;

import java.util.List;

/**
 * The GEMM kernels of {@code fused_linear.cu} and the launch policy: one tile of 128 × 128 outputs per block of
 * 256 threads; backward products of few tiles over a long K split K ({@link SplitK}) into scratch buffers that
 * {@code sum_slices} adds up; db as column sums of dz over row chunks, added up the same way. Each method queues
 * its work in the open call.
 */
final class CudaGemm implements GpuGemm<CUdeviceptr> {
    static final List<String> KERNELS = List.of("gemm_forward", "gemm_dx", "gemm_dw", "bias_grad",
            "gemm_forward_stats");
    /** Output tile (BM = BN in fused_linear.cu), threads per block, and the K staged per step (BK). */
    private static final int TILE = 128;
    private static final int THREADS = 256;
    private static final int STEP_K = 8;
    /** Threads per block of bias_grad (one per column), and at most this many row chunks. */
    private static final int DB_BLOCK = 256;
    private static final int DB_MAX_CHUNKS = 1024;
    private static final int DB_MIN_ROWS = 64;

    private final CudaDevice dev;
    private final CudaModuleCache.Loaded module;
    private final ElementwiseKernels<CUdeviceptr> elementwise;
    /** Partial outputs of split-K launches and db's row chunks. */
    private final Scratch<CUdeviceptr> partialC;
    private final Scratch<CUdeviceptr> partialDb;

    CudaGemm(CudaDevice dev, CudaModuleCache.Loaded module, ElementwiseKernels<CUdeviceptr> elementwise) {
        this.dev = dev;
        this.module = module;
        this.elementwise = elementwise;
        this.partialC = new Scratch<>(dev::allocate, dev::free);
        this.partialDb = new Scratch<>(dev::allocate, dev::free);
    }

    @Override
    public void forward(LinearShape s, CUdeviceptr x, CUdeviceptr w, CUdeviceptr b, CUdeviceptr y, CUdeviceptr zOut,
                 Activation act, Dropout d) {
        launch("gemm_forward").i32(s.n()).i32(s.out()).i32(s.in()).buffer(x).buffer(w).buffer(b).buffer(y)
                .buffer(zOut).activation(act).dropout(d).weightMask(d)
                .run(Math.ceilDiv(s.out(), TILE), Math.ceilDiv(s.n(), TILE), 1, THREADS);
    }

    /** The one tile, and forward never splits K: each tile's sums need its whole K. */
    @Override
    public void forwardWithStatistics(LinearShape s, CUdeviceptr x, CUdeviceptr w, CUdeviceptr b, CUdeviceptr z,
                                      CUdeviceptr part) {
        launch("gemm_forward_stats").i32(s.n()).i32(s.out()).i32(s.in()).buffer(x).buffer(w).buffer(b).buffer(z)
                .buffer(part).run(Math.ceilDiv(s.out(), TILE), Math.ceilDiv(s.n(), TILE), 1, THREADS);
    }

    @Override
    public int statisticsRows(LinearShape s) {
        return TILE;
    }

    @Override
    public void dx(LinearShape s, CUdeviceptr dy, CUdeviceptr y, CUdeviceptr z, CUdeviceptr w, CUdeviceptr dx,
            Activation act, Dropout d) {
        product("gemm_dx", s.n(), s.in(), s.out(), dy, y, z, w, dx, act, d);
    }

    /** dw in one product, then db as column sums of dz over row chunks, the chunks added in order. */
    @Override
    public void dw(LinearShape s, CUdeviceptr dy, CUdeviceptr y, CUdeviceptr z, CUdeviceptr x, CUdeviceptr dw,
            CUdeviceptr db, Activation act, Dropout d) {
        product("gemm_dw", s.out(), s.in(), s.n(), dy, y, z, x, dw, act, d);
        // db: row chunks summed per column in parallel, then the chunks added in order.
        int chunks = Math.min(DB_MAX_CHUNKS, Math.max(1, s.n() / DB_MIN_ROWS));
        int rows = Math.ceilDiv(s.n(), chunks);
        chunks = Math.ceilDiv(s.n(), rows);
        CUdeviceptr partial = partialDb.atLeast((long) chunks * s.out());
        launch("bias_grad").i32(s.n()).i32(s.out()).i32(rows).buffer(dy).buffer(y).buffer(z).buffer(partial)
                .activation(act).dropout(d).run(Math.ceilDiv(s.out(), DB_BLOCK), chunks, 1, DB_BLOCK);
        elementwise.sumSlices(chunks, s.out(), partial, db);
    }

    /** {@code c[m × n]} = a backward product over {@code k}, with K split when the output has few tiles. */
    private void product(String kernel, int m, int n, int k, CUdeviceptr dy, CUdeviceptr y, CUdeviceptr z,
                         CUdeviceptr b, CUdeviceptr c, Activation act, Dropout d) {
        long tiles = (long) Math.ceilDiv(m, TILE) * Math.ceilDiv(n, TILE);
        SplitK split = SplitK.plan(tiles, dev.info.multiprocessors(), k, STEP_K);
        CUdeviceptr out = split.split() ? partialC.atLeast((long) split.slices() * m * n) : c;
        launch(kernel).i32(m).i32(n).i32(k).i32(split.chunk()).buffer(dy).buffer(y).buffer(z).buffer(b).buffer(out)
                .activation(act).dropout(d).weightMask(d)
                .run(Math.ceilDiv(n, TILE), Math.ceilDiv(m, TILE), split.slices(), THREADS);
        if (split.split()) {
            elementwise.sumSlices(split.slices(), (long) m * n, out, c);
        }
    }

    @Override
    public void giveBackScratch() {
        partialC.giveBack();
        partialDb.giveBack();
    }

    @Override
    public String describe() {
        return TILE + "x" + TILE + "x" + STEP_K + " tiles of " + THREADS + " threads";
    }

    private CudaLaunch launch(String kernel) {
        return new CudaLaunch(dev, kernel, module.function(kernel));
    }
}
