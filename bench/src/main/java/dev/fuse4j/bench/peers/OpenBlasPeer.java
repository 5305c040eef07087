package dev.fuse4j.bench.peers;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import dev.fuse4j.Dropout;
import dev.fuse4j.spi.LinearShape;
import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.NativeBLAS;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * The usual JVM route: SGEMM from the system's native BLAS (OpenBLAS on Debian, through dev.ludovic.netlib's JNI
 * binding) followed by a separate pass for bias, ReLU and dropout. Unavailable when netlib finds no native BLAS
 * and would fall back to its Java implementation (F2jBLAS, VectorBLAS), which is not the peer we mean.
 */
public final class OpenBlasPeer implements Peer {
    private static final System.Logger LOG = System.getLogger(OpenBlasPeer.class.getName());

    private final BLAS blas;
    private final String reason;
    private final String library;

    public OpenBlasPeer() {
        BLAS b = null;
        String why = null;
        try {
            b = BLAS.getInstance();
            if (!(b instanceof NativeBLAS)) {
                why = "no native BLAS found (netlib fell back to " + b.getClass().getSimpleName()
                        + "); install Debian's libopenblas0-pthread";
            }
        } catch (RuntimeException | LinkageError e) {
            why = "netlib BLAS failed to load: " + e;
        }
        this.blas = b;
        this.reason = why;
        this.library = why == null ? loadedBlasLibrary() : null;
    }

    /**
     * The native BLAS file the process mapped, read from {@code /proc/self/maps}: libblas.so.3 is a Debian
     * alternative that may be OpenBLAS or the slow reference BLAS, and the table should say which one ran.
     */
    private static String loadedBlasLibrary() {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return "libblas.so.3";
        }
        try (Stream<String> lines = Files.lines(maps)) {
            List<String> libs = lines.map(l -> l.substring(l.lastIndexOf(' ') + 1))
                    .filter(f -> f.startsWith("/") && f.contains("blas") && f.contains(".so")).distinct().toList();
            return libs.stream().filter(f -> !f.contains("netlib")).findFirst().orElse("libblas.so.3");
        } catch (IOException | UncheckedIOException e) {
            return "libblas.so.3";
        }
    }

    @Override
    public String name() {
        return "openblas";
    }

    @Override
    public String unavailableReason() {
        return reason;
    }

    @Override
    public String description() {
        if (reason != null) {
            return reason;
        }
        return "SGEMM from " + library + " (" + (library.contains("openblas") ? "OpenBLAS" : "not OpenBLAS: check "
                + "the libblas.so.3 alternative") + ", through netlib " + blas.getClass().getSimpleName()
                + ") + a separate bias, ReLU and dropout pass";
    }

    /**
     * SGEMM at a chosen thread count, set through OpenBLAS's own {@code openblas_set_num_threads}
     * in the library netlib loaded (found through JNA); empty when the peer cannot run or the library is not
     * OpenBLAS, whose threads then cannot be set.
     */
    @Override
    public Optional<LibraryGemm> gemm() {
        if (reason != null) {
            return Optional.empty();
        }
        try {
            NativeLibrary lib = NativeLibrary.getInstance(library);
            Function get = lib.getFunction("openblas_get_num_threads");
            Function set = lib.getFunction("openblas_set_num_threads");
            return Optional.of(new Sgemm(get, set));
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            LOG.log(System.Logger.Level.INFO, library + " has no openblas_set_num_threads, so its SGEMM cannot "
                    + "be timed at a chosen thread count: " + e.getMessage());
            return Optional.empty();
        }
    }

    /** The threads OpenBLAS runs a call on now, or empty when the library is not OpenBLAS. */
    public Optional<Integer> threads() {
        return gemm().map(LibraryGemm::threads);
    }

    /** {@code C = A·Wᵀ} on row-major matrices of random numbers, oriented as the peer's forward. */
    private final class Sgemm implements LibraryGemm {
        private final Function getThreads;
        private final Function setThreads;

        Sgemm(Function getThreads, Function setThreads) {
            this.getThreads = getThreads;
            this.setThreads = setThreads;
        }

        @Override
        public int threads() {
            return getThreads.invokeInt(new Object[0]);
        }

        @Override
        public String label() {
            return "openblas sgemm";
        }

        @Override
        public Product prepare(int m, int n, int k, int threads) {
            LibraryGemm.checkArguments(m, n, k, threads);
            SplittableRandom r = new SplittableRandom((long) m * 31 + n * 17L + k);
            float[] a = new float[m * k];
            float[] w = new float[n * k];
            float[] c = new float[m * n];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) r.nextDouble(-1, 1);
            }
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) r.nextDouble(-1, 1);
            }
            int before = threads();
            setThreads.invokeVoid(new Object[] {threads});
            return new Product() {
                @Override
                public void run() {
                    // Row-major C[m×n] = A·Wᵀ is column-major Cᵀ[n×m] = W·Aᵀ, as in forwardOf.
                    blas.sgemm("T", "N", n, m, k, 1f, w, k, a, k, 0f, c, n);
                }

                @Override
                public void close() {
                    setThreads.invokeVoid(new Object[] {before});
                }
            };
        }
    }

    @Override
    public PreparedLayer prepare(LayerInputs in, Dropout d) {
        if (reason != null) {
            throw new IllegalStateException("openblas peer unavailable: " + reason);
        }
        return new HostLayer(() -> forwardOf(in, d), y -> backwardOf(in, y, d));
    }

    private float[] forwardOf(LayerInputs in, Dropout d) {
        LinearShape s = in.shape();
        int n = s.n(), cin = s.in(), out = s.out();
        float[] z = new float[n * out];
        // Row-major z[n×out] = x[n×in]·wᵀ is column-major zᵀ[out×n] = w(col-major in×out)ᵀ · xᵀ(col-major in×n).
        blas.sgemm("T", "N", out, n, cin, 1f, in.w(), cin, in.x(), cin, 0f, z, out);
        PlainLayer.epilogue(z, in.b(), n, out, d);
        return z;
    }

    private float[][] backwardOf(LayerInputs in, float[] y, Dropout d) {
        LinearShape s = in.shape();
        int n = s.n(), cin = s.in(), out = s.out();
        float[] dz = PlainLayer.dz(y, in.dy(), d);
        float[] db = PlainLayer.biasGradient(dz, n, out);
        float[] dx = new float[n * cin];
        float[] dw = new float[out * cin];
        // dx[n×in] = dz[n×out]·w[out×in]; column-major: dxᵀ = wᵀ·dzᵀ.
        blas.sgemm("N", "N", cin, n, out, 1f, in.w(), cin, dz, out, 0f, dx, cin);
        // dw[out×in] = dzᵀ·x; column-major: dwᵀ[in×out] = xᵀ[in×n]·dz[n×out].
        blas.sgemm("N", "T", cin, out, n, 1f, in.x(), cin, dz, out, 0f, dw, cin);
        return new float[][] {dx, dw, db};
    }
}
