package dev.fuse4j.bench.peers;

import dev.fuse4j.Dropout;
import dev.fuse4j.PhiloxMask;
import dev.fuse4j.bench.StandardShapes.Shape;
import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.NativeBLAS;

/**
 * The usual JVM route: SGEMM from the system's native BLAS (OpenBLAS on Debian, through dev.ludovic.netlib's JNI
 * binding) followed by a separate pass for bias, ReLU and dropout. Unavailable when netlib finds no native BLAS
 * and would fall back to its Java implementation, which is not the peer we mean.
 */
public final class OpenBlasPeer implements Peer {
    private final BLAS blas;
    private final String reason;

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
        return reason == null ? "native SGEMM (" + blas.getClass().getSimpleName() + ") + separate epilogue" : reason;
    }

    @Override
    public float[] forward(float[] x, float[] w, float[] b, Shape s, Dropout d) {
        int n = s.n(), in = s.in(), out = s.out();
        float[] z = new float[n * out];
        // Row-major z[n×out] = x[n×in]·wᵀ is column-major zᵀ[out×n] = w(col-major in×out)ᵀ · xᵀ(col-major in×n).
        blas.sgemm("T", "N", out, n, in, 1f, w, in, x, in, 0f, z, out);
        float scale = d.scale();
        PhiloxMask mask = new PhiloxMask(d);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                int e = i * out + j;
                float v = z[e] + b[j];
                z[e] = mask.keep(e) && v > 0f ? v * scale : 0f;
            }
        }
        return z;
    }

    @Override
    public float[][] backward(float[] dy, float[] x, float[] w, float[] y, Shape s, Dropout d) {
        int n = s.n(), in = s.in(), out = s.out();
        float scale = d.scale();
        float[] dz = new float[n * out];
        float[] db = new float[out];
        for (int e = 0; e < dz.length; e++) {
            dz[e] = y[e] > 0f ? dy[e] * scale : 0f;
            db[e % out] += dz[e];
        }
        float[] dx = new float[n * in];
        float[] dw = new float[out * in];
        // dx[n×in] = dz[n×out]·w[out×in]; column-major: dxᵀ = wᵀ·dzᵀ.
        blas.sgemm("N", "N", in, n, out, 1f, w, in, dz, out, 0f, dx, in);
        // dw[out×in] = dzᵀ·x; column-major: dwᵀ[in×out] = xᵀ[in×n]·dz[n×out].
        blas.sgemm("N", "T", in, out, n, 1f, x, in, dz, out, 0f, dw, in);
        return new float[][] {dx, dw, db};
    }
}
