package dev.fuse4j.cpu;

import jdk.incubator.vector.FloatVector;

import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.stream.Collectors;

import static dev.fuse4j.cpu.Tuning.L;
import static dev.fuse4j.cpu.Tuning.S;

/**
 * The register-blocked microkernels of {@link PackedGemm}: {@code rows × vectors} accumulators held in registers for
 * a whole K block. Per k step a kernel loads {@code vectors} vectors of a packed B panel, broadcasts {@code rows}
 * floats of a packed A micro-panel, and does {@code rows·vectors} FMAs; then (with {@code accumulate}) adds the
 * previous K blocks' sums and stores the tile. Each shape is its own body because C2 keeps accumulators in registers
 * only as separate locals, and each is a method of its own, compiled apart from the epilogue: in one compilation
 * unit with it, C2 ran out of inlining budget and left the epilogue's vector operations boxed.
 *
 * <p>Which shape suits a machine depends on its register file. Two pipes of FMA latency 4 need 8 independent
 * accumulators in flight, and more leave slack for the loads: with 32 registers (AVX-512, NEON) {@code 8x2} has 16.
 * With 16 (AVX2, SSE) {@code 6x2} fits 12 accumulators, 2 B vectors and one broadcast only because it orders its
 * broadcasts ({@link #orderBroadcasts}); unordered, C2 hoists the broadcasts to the top of the k step and spills an
 * accumulator. {@link Tuning#blockingFor} holds the choice; the others stay selectable ({@code fuse4j.cpu.kernel})
 * and are tested at every width.
 */
enum Microkernel {
    K4X2(4, 2) {
        @Override
        void multiply(float[] a, int aAt, float[] b, int bAt, int kc, float[] dst, int at, int ld,
                      boolean accumulate) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
            FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
            FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
            FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
            for (int kk = 0; kk < kc; kk++) {
                int bk = bAt + kk * 2 * L;
                FloatVector b0 = FloatVector.fromArray(S, b, bk);
                FloatVector b1 = FloatVector.fromArray(S, b, bk + L);
                int ak = aAt + kk * 4;
                FloatVector x = FloatVector.broadcast(S, a[ak]);
                c00 = x.fma(b0, c00);
                c01 = x.fma(b1, c01);
                x = FloatVector.broadcast(S, a[ak + 1]);
                c10 = x.fma(b0, c10);
                c11 = x.fma(b1, c11);
                x = FloatVector.broadcast(S, a[ak + 2]);
                c20 = x.fma(b0, c20);
                c21 = x.fma(b1, c21);
                x = FloatVector.broadcast(S, a[ak + 3]);
                c30 = x.fma(b0, c30);
                c31 = x.fma(b1, c31);
            }
            if (accumulate) {
                c00 = c00.add(FloatVector.fromArray(S, dst, at));
                c01 = c01.add(FloatVector.fromArray(S, dst, at + L));
                c10 = c10.add(FloatVector.fromArray(S, dst, at + ld));
                c11 = c11.add(FloatVector.fromArray(S, dst, at + ld + L));
                c20 = c20.add(FloatVector.fromArray(S, dst, at + 2 * ld));
                c21 = c21.add(FloatVector.fromArray(S, dst, at + 2 * ld + L));
                c30 = c30.add(FloatVector.fromArray(S, dst, at + 3 * ld));
                c31 = c31.add(FloatVector.fromArray(S, dst, at + 3 * ld + L));
            }
            c00.intoArray(dst, at);
            c01.intoArray(dst, at + L);
            c10.intoArray(dst, at + ld);
            c11.intoArray(dst, at + ld + L);
            c20.intoArray(dst, at + 2 * ld);
            c21.intoArray(dst, at + 2 * ld + L);
            c30.intoArray(dst, at + 3 * ld);
            c31.intoArray(dst, at + 3 * ld + L);
        }
    },
    K3X3(3, 3) {
        @Override
        void multiply(float[] a, int aAt, float[] b, int bAt, int kc, float[] dst, int at, int ld,
                      boolean accumulate) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
            FloatVector c02 = FloatVector.zero(S);
            FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
            FloatVector c12 = FloatVector.zero(S);
            FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
            FloatVector c22 = FloatVector.zero(S);
            for (int kk = 0; kk < kc; kk++) {
                int bk = bAt + kk * 3 * L;
                FloatVector b0 = FloatVector.fromArray(S, b, bk);
                FloatVector b1 = FloatVector.fromArray(S, b, bk + L);
                FloatVector b2 = FloatVector.fromArray(S, b, bk + 2 * L);
                int ak = aAt + kk * 3;
                FloatVector x = FloatVector.broadcast(S, a[ak]);
                c00 = x.fma(b0, c00);
                c01 = x.fma(b1, c01);
                c02 = x.fma(b2, c02);
                x = FloatVector.broadcast(S, a[ak + 1]);
                c10 = x.fma(b0, c10);
                c11 = x.fma(b1, c11);
                c12 = x.fma(b2, c12);
                x = FloatVector.broadcast(S, a[ak + 2]);
                c20 = x.fma(b0, c20);
                c21 = x.fma(b1, c21);
                c22 = x.fma(b2, c22);
            }
            if (accumulate) {
                c00 = c00.add(FloatVector.fromArray(S, dst, at));
                c01 = c01.add(FloatVector.fromArray(S, dst, at + L));
                c02 = c02.add(FloatVector.fromArray(S, dst, at + 2 * L));
                c10 = c10.add(FloatVector.fromArray(S, dst, at + ld));
                c11 = c11.add(FloatVector.fromArray(S, dst, at + ld + L));
                c12 = c12.add(FloatVector.fromArray(S, dst, at + ld + 2 * L));
                c20 = c20.add(FloatVector.fromArray(S, dst, at + 2 * ld));
                c21 = c21.add(FloatVector.fromArray(S, dst, at + 2 * ld + L));
                c22 = c22.add(FloatVector.fromArray(S, dst, at + 2 * ld + 2 * L));
            }
            c00.intoArray(dst, at);
            c01.intoArray(dst, at + L);
            c02.intoArray(dst, at + 2 * L);
            c10.intoArray(dst, at + ld);
            c11.intoArray(dst, at + ld + L);
            c12.intoArray(dst, at + ld + 2 * L);
            c20.intoArray(dst, at + 2 * ld);
            c21.intoArray(dst, at + 2 * ld + L);
            c22.intoArray(dst, at + 2 * ld + 2 * L);
        }
    },
    K6X2(6, 2) {
        @Override
        void multiply(float[] a, int aAt, float[] b, int bAt, int kc, float[] dst, int at, int ld,
                      boolean accumulate) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
            FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
            FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
            FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
            FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
            FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
            for (int kk = 0; kk < kc; kk++) {
                int bk = bAt + kk * 2 * L;
                FloatVector b0 = FloatVector.fromArray(S, b, bk);
                FloatVector b1 = FloatVector.fromArray(S, b, bk + L);
                int ak = aAt + kk * 6;
                FloatVector x = FloatVector.broadcast(S, a[ak]);
                c00 = x.fma(b0, c00);
                c01 = x.fma(b1, c01);
                orderBroadcasts();
                x = FloatVector.broadcast(S, a[ak + 1]);
                c10 = x.fma(b0, c10);
                c11 = x.fma(b1, c11);
                orderBroadcasts();
                x = FloatVector.broadcast(S, a[ak + 2]);
                c20 = x.fma(b0, c20);
                c21 = x.fma(b1, c21);
                orderBroadcasts();
                x = FloatVector.broadcast(S, a[ak + 3]);
                c30 = x.fma(b0, c30);
                c31 = x.fma(b1, c31);
                orderBroadcasts();
                x = FloatVector.broadcast(S, a[ak + 4]);
                c40 = x.fma(b0, c40);
                c41 = x.fma(b1, c41);
                orderBroadcasts();
                x = FloatVector.broadcast(S, a[ak + 5]);
                c50 = x.fma(b0, c50);
                c51 = x.fma(b1, c51);
            }
            if (accumulate) {
                c00 = c00.add(FloatVector.fromArray(S, dst, at));
                c01 = c01.add(FloatVector.fromArray(S, dst, at + L));
                c10 = c10.add(FloatVector.fromArray(S, dst, at + ld));
                c11 = c11.add(FloatVector.fromArray(S, dst, at + ld + L));
                c20 = c20.add(FloatVector.fromArray(S, dst, at + 2 * ld));
                c21 = c21.add(FloatVector.fromArray(S, dst, at + 2 * ld + L));
                c30 = c30.add(FloatVector.fromArray(S, dst, at + 3 * ld));
                c31 = c31.add(FloatVector.fromArray(S, dst, at + 3 * ld + L));
                c40 = c40.add(FloatVector.fromArray(S, dst, at + 4 * ld));
                c41 = c41.add(FloatVector.fromArray(S, dst, at + 4 * ld + L));
                c50 = c50.add(FloatVector.fromArray(S, dst, at + 5 * ld));
                c51 = c51.add(FloatVector.fromArray(S, dst, at + 5 * ld + L));
            }
            c00.intoArray(dst, at);
            c01.intoArray(dst, at + L);
            c10.intoArray(dst, at + ld);
            c11.intoArray(dst, at + ld + L);
            c20.intoArray(dst, at + 2 * ld);
            c21.intoArray(dst, at + 2 * ld + L);
            c30.intoArray(dst, at + 3 * ld);
            c31.intoArray(dst, at + 3 * ld + L);
            c40.intoArray(dst, at + 4 * ld);
            c41.intoArray(dst, at + 4 * ld + L);
            c50.intoArray(dst, at + 5 * ld);
            c51.intoArray(dst, at + 5 * ld + L);
        }
    },
    K8X2(8, 2) {
        @Override
        void multiply(float[] a, int aAt, float[] b, int bAt, int kc, float[] dst, int at, int ld,
                      boolean accumulate) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
            FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
            FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
            FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
            FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
            FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
            FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
            FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
            for (int kk = 0; kk < kc; kk++) {
                int bk = bAt + kk * 2 * L;
                FloatVector b0 = FloatVector.fromArray(S, b, bk);
                FloatVector b1 = FloatVector.fromArray(S, b, bk + L);
                int ak = aAt + kk * 8;
                FloatVector x = FloatVector.broadcast(S, a[ak]);
                c00 = x.fma(b0, c00);
                c01 = x.fma(b1, c01);
                x = FloatVector.broadcast(S, a[ak + 1]);
                c10 = x.fma(b0, c10);
                c11 = x.fma(b1, c11);
                x = FloatVector.broadcast(S, a[ak + 2]);
                c20 = x.fma(b0, c20);
                c21 = x.fma(b1, c21);
                x = FloatVector.broadcast(S, a[ak + 3]);
                c30 = x.fma(b0, c30);
                c31 = x.fma(b1, c31);
                x = FloatVector.broadcast(S, a[ak + 4]);
                c40 = x.fma(b0, c40);
                c41 = x.fma(b1, c41);
                x = FloatVector.broadcast(S, a[ak + 5]);
                c50 = x.fma(b0, c50);
                c51 = x.fma(b1, c51);
                x = FloatVector.broadcast(S, a[ak + 6]);
                c60 = x.fma(b0, c60);
                c61 = x.fma(b1, c61);
                x = FloatVector.broadcast(S, a[ak + 7]);
                c70 = x.fma(b0, c70);
                c71 = x.fma(b1, c71);
            }
            if (accumulate) {
                c00 = c00.add(FloatVector.fromArray(S, dst, at));
                c01 = c01.add(FloatVector.fromArray(S, dst, at + L));
                c10 = c10.add(FloatVector.fromArray(S, dst, at + ld));
                c11 = c11.add(FloatVector.fromArray(S, dst, at + ld + L));
                c20 = c20.add(FloatVector.fromArray(S, dst, at + 2 * ld));
                c21 = c21.add(FloatVector.fromArray(S, dst, at + 2 * ld + L));
                c30 = c30.add(FloatVector.fromArray(S, dst, at + 3 * ld));
                c31 = c31.add(FloatVector.fromArray(S, dst, at + 3 * ld + L));
                c40 = c40.add(FloatVector.fromArray(S, dst, at + 4 * ld));
                c41 = c41.add(FloatVector.fromArray(S, dst, at + 4 * ld + L));
                c50 = c50.add(FloatVector.fromArray(S, dst, at + 5 * ld));
                c51 = c51.add(FloatVector.fromArray(S, dst, at + 5 * ld + L));
                c60 = c60.add(FloatVector.fromArray(S, dst, at + 6 * ld));
                c61 = c61.add(FloatVector.fromArray(S, dst, at + 6 * ld + L));
                c70 = c70.add(FloatVector.fromArray(S, dst, at + 7 * ld));
                c71 = c71.add(FloatVector.fromArray(S, dst, at + 7 * ld + L));
            }
            c00.intoArray(dst, at);
            c01.intoArray(dst, at + L);
            c10.intoArray(dst, at + ld);
            c11.intoArray(dst, at + ld + L);
            c20.intoArray(dst, at + 2 * ld);
            c21.intoArray(dst, at + 2 * ld + L);
            c30.intoArray(dst, at + 3 * ld);
            c31.intoArray(dst, at + 3 * ld + L);
            c40.intoArray(dst, at + 4 * ld);
            c41.intoArray(dst, at + 4 * ld + L);
            c50.intoArray(dst, at + 5 * ld);
            c51.intoArray(dst, at + 5 * ld + L);
            c60.intoArray(dst, at + 6 * ld);
            c61.intoArray(dst, at + 6 * ld + L);
            c70.intoArray(dst, at + 7 * ld);
            c71.intoArray(dst, at + 7 * ld + L);
        }
    },
    K6X4(6, 4) {
        @Override
        void multiply(float[] a, int aAt, float[] b, int bAt, int kc, float[] dst, int at, int ld,
                      boolean accumulate) {
            FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
            FloatVector c02 = FloatVector.zero(S), c03 = FloatVector.zero(S);
            FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
            FloatVector c12 = FloatVector.zero(S), c13 = FloatVector.zero(S);
            FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
            FloatVector c22 = FloatVector.zero(S), c23 = FloatVector.zero(S);
            FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
            FloatVector c32 = FloatVector.zero(S), c33 = FloatVector.zero(S);
            FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
            FloatVector c42 = FloatVector.zero(S), c43 = FloatVector.zero(S);
            FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
            FloatVector c52 = FloatVector.zero(S), c53 = FloatVector.zero(S);
            for (int kk = 0; kk < kc; kk++) {
                int bk = bAt + kk * 4 * L;
                FloatVector b0 = FloatVector.fromArray(S, b, bk);
                FloatVector b1 = FloatVector.fromArray(S, b, bk + L);
                FloatVector b2 = FloatVector.fromArray(S, b, bk + 2 * L);
                FloatVector b3 = FloatVector.fromArray(S, b, bk + 3 * L);
                int ak = aAt + kk * 6;
                FloatVector x = FloatVector.broadcast(S, a[ak]);
                c00 = x.fma(b0, c00);
                c01 = x.fma(b1, c01);
                c02 = x.fma(b2, c02);
                c03 = x.fma(b3, c03);
                x = FloatVector.broadcast(S, a[ak + 1]);
                c10 = x.fma(b0, c10);
                c11 = x.fma(b1, c11);
                c12 = x.fma(b2, c12);
                c13 = x.fma(b3, c13);
                x = FloatVector.broadcast(S, a[ak + 2]);
                c20 = x.fma(b0, c20);
                c21 = x.fma(b1, c21);
                c22 = x.fma(b2, c22);
                c23 = x.fma(b3, c23);
                x = FloatVector.broadcast(S, a[ak + 3]);
                c30 = x.fma(b0, c30);
                c31 = x.fma(b1, c31);
                c32 = x.fma(b2, c32);
                c33 = x.fma(b3, c33);
                x = FloatVector.broadcast(S, a[ak + 4]);
                c40 = x.fma(b0, c40);
                c41 = x.fma(b1, c41);
                c42 = x.fma(b2, c42);
                c43 = x.fma(b3, c43);
                x = FloatVector.broadcast(S, a[ak + 5]);
                c50 = x.fma(b0, c50);
                c51 = x.fma(b1, c51);
                c52 = x.fma(b2, c52);
                c53 = x.fma(b3, c53);
            }
            if (accumulate) {
                c00 = c00.add(FloatVector.fromArray(S, dst, at));
                c01 = c01.add(FloatVector.fromArray(S, dst, at + L));
                c02 = c02.add(FloatVector.fromArray(S, dst, at + 2 * L));
                c03 = c03.add(FloatVector.fromArray(S, dst, at + 3 * L));
                c10 = c10.add(FloatVector.fromArray(S, dst, at + ld));
                c11 = c11.add(FloatVector.fromArray(S, dst, at + ld + L));
                c12 = c12.add(FloatVector.fromArray(S, dst, at + ld + 2 * L));
                c13 = c13.add(FloatVector.fromArray(S, dst, at + ld + 3 * L));
                c20 = c20.add(FloatVector.fromArray(S, dst, at + 2 * ld));
                c21 = c21.add(FloatVector.fromArray(S, dst, at + 2 * ld + L));
                c22 = c22.add(FloatVector.fromArray(S, dst, at + 2 * ld + 2 * L));
                c23 = c23.add(FloatVector.fromArray(S, dst, at + 2 * ld + 3 * L));
                c30 = c30.add(FloatVector.fromArray(S, dst, at + 3 * ld));
                c31 = c31.add(FloatVector.fromArray(S, dst, at + 3 * ld + L));
                c32 = c32.add(FloatVector.fromArray(S, dst, at + 3 * ld + 2 * L));
                c33 = c33.add(FloatVector.fromArray(S, dst, at + 3 * ld + 3 * L));
                c40 = c40.add(FloatVector.fromArray(S, dst, at + 4 * ld));
                c41 = c41.add(FloatVector.fromArray(S, dst, at + 4 * ld + L));
                c42 = c42.add(FloatVector.fromArray(S, dst, at + 4 * ld + 2 * L));
                c43 = c43.add(FloatVector.fromArray(S, dst, at + 4 * ld + 3 * L));
                c50 = c50.add(FloatVector.fromArray(S, dst, at + 5 * ld));
                c51 = c51.add(FloatVector.fromArray(S, dst, at + 5 * ld + L));
                c52 = c52.add(FloatVector.fromArray(S, dst, at + 5 * ld + 2 * L));
                c53 = c53.add(FloatVector.fromArray(S, dst, at + 5 * ld + 3 * L));
            }
            c00.intoArray(dst, at);
            c01.intoArray(dst, at + L);
            c02.intoArray(dst, at + 2 * L);
            c03.intoArray(dst, at + 3 * L);
            c10.intoArray(dst, at + ld);
            c11.intoArray(dst, at + ld + L);
            c12.intoArray(dst, at + ld + 2 * L);
            c13.intoArray(dst, at + ld + 3 * L);
            c20.intoArray(dst, at + 2 * ld);
            c21.intoArray(dst, at + 2 * ld + L);
            c22.intoArray(dst, at + 2 * ld + 2 * L);
            c23.intoArray(dst, at + 2 * ld + 3 * L);
            c30.intoArray(dst, at + 3 * ld);
            c31.intoArray(dst, at + 3 * ld + L);
            c32.intoArray(dst, at + 3 * ld + 2 * L);
            c33.intoArray(dst, at + 3 * ld + 3 * L);
            c40.intoArray(dst, at + 4 * ld);
            c41.intoArray(dst, at + 4 * ld + L);
            c42.intoArray(dst, at + 4 * ld + 2 * L);
            c43.intoArray(dst, at + 4 * ld + 3 * L);
            c50.intoArray(dst, at + 5 * ld);
            c51.intoArray(dst, at + 5 * ld + L);
            c52.intoArray(dst, at + 5 * ld + 2 * L);
            c53.intoArray(dst, at + 5 * ld + 3 * L);
        }
    };

    private final int rows;
    private final int vectors;

    /**
     * Keeps the next row's broadcast below this point where {@link Tuning#ORDERED_BROADCASTS} says so. C2 otherwise
     * hoists a k step's broadcasts to its top (three live at once in the disassembly): with 16 registers the
     * {@code 6x2} tile (12 accumulators, 2 B vectors) then spills an accumulator, and its store-and-reload chain
     * halves the loop. A load-load fence is no instruction on x86, whose loads are ordered anyway, but C2 moves no
     * load across it, so each broadcast lives only for its row's FMAs and the tile fits 15 registers.
     */
    private static void orderBroadcasts() {
        if (Tuning.ORDERED_BROADCASTS) {
            VarHandle.loadLoadFence();
        }
    }

    Microkernel(int rows, int vectors) {
        this.rows = rows;
        this.vectors = vectors;
    }

    /**
     * {@code dst[at + r·ld + c] = Σ_kk a[aAt + kk·rows + r] · b[bAt + kk·vectors·L + c]} (plus the value already in
     * {@code dst} when {@code accumulate}) for the tile's {@link #rows()} rows and {@code vectors·L} columns.
     */
    abstract void multiply(float[] a, int aAt, float[] b, int bAt, int kc, float[] dst, int at, int ld,
                           boolean accumulate);

    /** Rows of A per tile (floats broadcast per k step). */
    int rows() {
        return rows;
    }

    /** Vectors of B per tile. */
    int vectors() {
        return vectors;
    }

    /** The name used by {@code fuse4j.cpu.kernel} and the log: {@code 4x2} is 4 rows × 2 vectors. */
    String shape() {
        return rows + "x" + vectors;
    }

    /** The kernel named {@code shape} ({@code 4x2}, ...). */
    static Microkernel named(String shape) {
        for (Microkernel k : values()) {
            if (k.shape().equals(shape.trim())) {
                return k;
            }
        }
        throw new IllegalArgumentException("no microkernel is called '" + shape + "'; there are "
                + Arrays.stream(values()).map(Microkernel::shape).collect(Collectors.joining(", ")));
    }
}
