/*
 * Fuse4J CUDA: the tiled GEMM behind the fused layer, forward and backward (fused_linear.cl is its OpenCL
 * counterpart), and the column sums of db. The Philox mask, the epilogue and dz come from fuse4j_common.h, the
 * same text the OpenCL backend compiles. nvcc compiles ahead of time, so the three products are three kernels
 * specialised from one tile body; OpenCL, compiled at run time, has one kernel with a mode argument instead.
 *
 * The GEMM: 128 x 128 outputs per block of 256 threads, each thread 8 x 8 in registers, K staged through shared
 * memory 8 at a time in two buffers: while the block multiplies one K step out of shared memory, each thread
 * already holds the next step's two float4 loads in registers, so global latency hides behind the FMAs and one
 * barrier per step suffices. A thread's 8 rows (and 8 columns) are two runs of 4, 64 apart, so its fragment
 * loads from shared memory are float4 reads without bank conflicts. FP32 FMA only (no tensor cores, so no TF32
 * rounding). The backward products may split K across blockIdx.z (few output tiles, long K: dw of a tall
 * batch), each slice writing its own partial C that sum_slices (elementwise.h) then adds in a fixed order.
 * Three kernels over one tile body:
 *   gemm_forward  C[n x out]  = x . w^T, then bias, activation, dropout before the store
 *   gemm_dx       C[n x in]   = dz . w,   dz formed from dy and y (and z, the mask) while the A tile is loaded
 *   gemm_dw       C[out x in] = dz^T . x, likewise
 * DropConnect (the weight-mask words' wmask set): forward and dx mask w as its tiles are loaded, dw masks its
 * result as it is stored, so the masked weights never exist in global memory.
 */
#ifndef FUSE4J_FUSED_LINEAR_CU
#define FUSE4J_FUSED_LINEAR_CU

#include "fuse4j_common.h"

#define BM 128
#define BN 128
#define BK 8
#define THREADS 256
/* Row pitch of the shared tiles: 4 floats of padding make the transposed stores of K-contiguous loads land in
 * distinct banks (4 rows apart = 528 floats = 16 banks apart), and keep rows 16-byte aligned for float4 reads. */
#define PITCH (BM + 4)

enum { MODE_FORWARD = 0, MODE_DX = 1, MODE_DW = 2 };

/* What forms dz from dy: y, z and the dropout words of the call; ld is the row pitch of dy, y and z (out). */
struct DzParams {
    const float *dy;
    const float *y;
    const float *z;
    int ld;
    int act;
    float alpha;
    const float *slope; /* PReLU's slope per column of dz, else null */
    f4j_dropout d;
};

/*
 * One Philox block as a call rather than inlined: the epilogue and the loaders need it at dozens of unrolled
 * sites, and inlining ten rounds at each of them made the PTX megabytes long (seconds of driver JIT).
 */
__device__ __noinline__ uint4 mask_block(unsigned long long q, unsigned int s0, unsigned int s1, unsigned int o0,
                                         unsigned int o1) {
    return f4j_mask_block(q, s0, s1, o0, o1);
}

/* The Philox words of mask elements e0 .. e0+3: block `first` serves those with (e >> 2) == (e0 >> 2). */
struct MaskWords {
    uint4 first;
    uint4 second;
    unsigned long long q0;

    __device__ __forceinline__ int kept(unsigned long long e, unsigned long long threshold) const {
        return f4j_keep_word(f4j_word((e >> 2) == q0 ? first : second, (int)(e & 3)), threshold);
    }
};

/* Channel or variational dropout: element e (element base included) through its own mask index, one block each. */
__device__ __noinline__ int keep_mapped(unsigned long long e, const f4j_dropout &d) {
    return f4j_keep_element(e, d);
}

__device__ __forceinline__ MaskWords mask_words(unsigned long long e0, const f4j_dropout &d) {
    MaskWords w;
    w.q0 = e0 >> 2;
    w.first = mask_block(w.q0, d.s0, d.s1, d.o0, d.o1);
    /* Four elements from e0 span a second block unless e0 is a multiple of 4 (rows of a width not divisible by 4). */
    w.second = (e0 & 3) != 0 ? mask_block(w.q0 + 1, d.s0, d.s1, d.o0, d.o1) : w.first;
    return w;
}

/* DropConnect's Philox block as a call, for the same reason as mask_block. */
__device__ __noinline__ uint4 weight_block(unsigned long long q, const f4j_weight_mask m) {
    return f4j_weight_block(q, m);
}

/*
 * v, the weight elements k0 .. k0+3, as a product reads them: v * scale where the weight mask keeps, else 0; v
 * itself without a mask. Four consecutive elements span at most two Philox blocks.
 */
__device__ __forceinline__ float4 weight_masked4(float4 v, unsigned long long k0, const f4j_weight_mask &m) {
    if (!m.on) {
        return v;
    }
    const unsigned long long q0 = k0 >> 2;
    const uint4 first = weight_block(q0, m);
    const uint4 second = (k0 & 3) != 0 ? weight_block(q0 + 1, m) : first;
    float out[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int q = 0; q < 4; q++) {
        const unsigned long long k = k0 + q;
        out[q] = f4j_keep_word(f4j_word((k >> 2) == q0 ? first : second, (int)(k & 3)), m.threshold)
                ? out[q] * m.scale : 0.0f;
    }
    return make_float4(out[0], out[1], out[2], out[3]);
}

__device__ __forceinline__ float4 zero4() {
    return make_float4(0.0f, 0.0f, 0.0f, 0.0f);
}

__device__ __forceinline__ float lane(const float4 &v, int q) {
    return q == 0 ? v.x : q == 1 ? v.y : q == 2 ? v.z : v.w;
}

/*
 * src[i][j .. j+3] of a row-major matrix with row pitch ld; elements at or past colLimit, and whole rows at or past
 * rowLimit, read as 0. j is a multiple of 4 at every call site, so with ld a multiple of 4 the float4 is aligned.
 */
__device__ __forceinline__ float4 load4(const float *__restrict__ src, int ld, int i, int j, int rowLimit,
                                        int colLimit) {
    if (i >= rowLimit) {
        return zero4();
    }
    const float *r = src + (long long)i * ld + j;
    if ((ld & 3) == 0 && j + 3 < colLimit) {
        return *reinterpret_cast<const float4 *>(r);
    }
    return make_float4(j < colLimit ? r[0] : 0.0f, j + 1 < colLimit ? r[1] : 0.0f, j + 2 < colLimit ? r[2] : 0.0f,
                       j + 3 < colLimit ? r[3] : 0.0f);
}

/* dz[i][j .. j+3] formed from dy, y (and z and the regenerated mask where the activation needs them), as load4. */
__device__ __forceinline__ float4 dz4(const DzParams &p, int i, int j, int rowLimit, int colLimit) {
    if (i >= rowLimit) {
        return zero4();
    }
    float4 dy = load4(p.dy, p.ld, i, j, rowLimit, colLimit);
    float4 y = load4(p.y, p.ld, i, j, rowLimit, colLimit);
    float4 z = f4j_dz_needs_z(p.act) ? load4(p.z, p.ld, i, j, rowLimit, colLimit) : zero4();
    unsigned long long e0 = p.d.base + (unsigned long long)i * p.ld + j;
    int needMask = p.d.training && f4j_dz_needs_mask(p.act);
    MaskWords mw = {};
    if (needMask && !p.d.mapped) {
        mw = mask_words(e0, p.d);
    }
    float out[4];
#pragma unroll
    for (int q = 0; q < 4; q++) {
        int kept = !needMask ? 1 : p.d.mapped ? keep_mapped(e0 + q, p.d) : mw.kept(e0 + q, p.d.threshold);
        out[q] = j + q < colLimit ? f4j_dz(p.act, f4j_alpha_of(p.act, p.alpha, p.slope, j + q), p.d.scale,
                                           lane(dy, q), lane(y, q), lane(z, q), kept)
                                  : 0.0f;
    }
    return make_float4(out[0], out[1], out[2], out[3]);
}

/* dz of one element, for the column sums of db. */
__device__ __forceinline__ float dz_at(const DzParams &p, int i, int j) {
    long long e = (long long)i * p.ld + j;
    int kept = f4j_dz_needs_mask(p.act) ? f4j_keep_element(p.d.base + (unsigned long long)e, p.d) : 1;
    float zz = f4j_dz_needs_z(p.act) ? p.z[e] : 0.0f;
    return f4j_dz(p.act, f4j_alpha_of(p.act, p.alpha, p.slope, j), p.d.scale, p.dy[e], p.y[e], zz, kept);
}

/* v[0..3] into c[i][j .. j+3] (row pitch ld), the columns at or past colLimit left alone. */
__device__ __forceinline__ void store4(float *__restrict__ c, int ld, int i, int j, int colLimit, const float *v) {
    float *r = c + (long long)i * ld + j;
    if ((ld & 3) == 0 && j + 3 < colLimit) {
        *reinterpret_cast<float4 *>(r) = make_float4(v[0], v[1], v[2], v[3]);
        return;
    }
#pragma unroll
    for (int q = 0; q < 4; q++) {
        if (j + q < colLimit) {
            r[q] = v[q];
        }
    }
}

/*
 * This thread's A and B float4 for K step k0. K-contiguous operands (x and dz rows for A, w rows for B in
 * forward) are read as 128 rows x 8 k, two threads per row; the others (dz^T for A in dw, w or x for B in the
 * backward products) as 8 k-rows x 128, 32 threads per row.
 */
template <int MODE>
__device__ __forceinline__ void load_step(int t, int k0, int kEnd, int M, int N, int K, int row0, int col0,
                                          const float *__restrict__ a, const float *__restrict__ b,
                                          const DzParams &dzp, const f4j_weight_mask &wm, float4 &ra, float4 &rb) {
    const int kr = t >> 1, kc = (t & 1) * 4;   /* K-contiguous: tile row, k offset */
    const int mr = t >> 5, mc = (t & 31) * 4;  /* M-contiguous: k row, column offset */
    if (MODE == MODE_FORWARD) {
        ra = load4(a, K, row0 + kr, k0 + kc, M, kEnd);
        rb = weight_masked4(load4(b, K, col0 + kr, k0 + kc, N, kEnd),
                            (unsigned long long)(col0 + kr) * K + (unsigned long long)(k0 + kc), wm);
    } else if (MODE == MODE_DX) {
        ra = dz4(dzp, row0 + kr, k0 + kc, M, kEnd);
        rb = weight_masked4(load4(b, N, k0 + mr, col0 + mc, kEnd, N),
                            (unsigned long long)(k0 + mr) * N + (unsigned long long)(col0 + mc), wm);
    } else {
        ra = dz4(dzp, k0 + mr, row0 + mc, kEnd, M);
        rb = load4(b, N, k0 + mr, col0 + mc, kEnd, N);
    }
}

/* The registers of load_step into shared tile buffer `s`, laid out [k][m] and [k][n]. */
template <int MODE>
__device__ __forceinline__ void store_step(int t, float (*As)[PITCH], float (*Bs)[PITCH], const float4 &ra,
                                           const float4 &rb) {
    const int kr = t >> 1, kc = (t & 1) * 4;
    const int mr = t >> 5, mc = (t & 31) * 4;
    if (MODE == MODE_DW) {
        *reinterpret_cast<float4 *>(&As[mr][mc]) = ra;
    } else {
        As[kc][kr] = ra.x;
        As[kc + 1][kr] = ra.y;
        As[kc + 2][kr] = ra.z;
        As[kc + 3][kr] = ra.w;
    }
    if (MODE == MODE_FORWARD) {
        Bs[kc][kr] = rb.x;
        Bs[kc + 1][kr] = rb.y;
        Bs[kc + 2][kr] = rb.z;
        Bs[kc + 3][kr] = rb.w;
    } else {
        *reinterpret_cast<float4 *>(&Bs[mr][mc]) = rb;
    }
}

/* Row i (0..7) of thread row ty within its tile: two runs of 4, 64 apart. */
__device__ __forceinline__ int tile_row(int ty, int i) {
    return i < 4 ? ty * 4 + i : 64 + ty * 4 + i - 4;
}

/*
 * Batch norm's statistics of a forward tile, after its store: per column, S1 = sum (z - c) and S2 = sum (z - c)^2
 * over the tile's rows, c the tile's first row, into part[(2 * blockIdx.y) * N + col] and part[... + 1) * N + col]
 * (bn_stats_merge in elementwise.h merges the tiles in order). z is formed as the epilogue formed it (acc + bias);
 * each thread sums its 8 rows, and the 16 threads of a column meet in the shared tiles (free after the K loop's last
 * barrier), added in order of ty.
 */
__device__ __forceinline__ void tile_statistics(int M, int N, const float (&acc)[8][8], const float4 (&bias4)[2],
                                                float (*As)[BK][PITCH], float (*Bs)[BK][PITCH], float *part) {
    const int t = threadIdx.x;
    const int tx = t & 15, ty = t >> 4;
    const int row0 = blockIdx.y * BM;
    const int col0 = blockIdx.x * BN;
    float *shift = &Bs[0][0][0];
    float *s1 = &As[0][0][0]; /* 16 x BN sums in each of As and Bs (2 x BK x PITCH floats each) */
    float *s2 = &Bs[0][0][0];
    if (ty == 0) {
#pragma unroll
        for (int g = 0; g < 2; g++) {
#pragma unroll
            for (int q = 0; q < 4; q++) {
                shift[g * 64 + tx * 4 + q] = acc[0][g * 4 + q] + lane(bias4[g], q);
            }
        }
    }
    __syncthreads();
    float sh[8], p1[8], p2[8];
#pragma unroll
    for (int g = 0; g < 2; g++) {
#pragma unroll
        for (int q = 0; q < 4; q++) {
            sh[g * 4 + q] = shift[g * 64 + tx * 4 + q];
            p1[g * 4 + q] = 0.0f;
            p2[g * 4 + q] = 0.0f;
        }
    }
#pragma unroll
    for (int i = 0; i < 8; i++) {
        const int row = row0 + tile_row(ty, i);
        if (row >= M) {
            continue;
        }
#pragma unroll
        for (int g = 0; g < 2; g++) {
#pragma unroll
            for (int q = 0; q < 4; q++) {
                const float dv = col0 + g * 64 + tx * 4 + q < N ? acc[i][g * 4 + q] + lane(bias4[g], q) - sh[g * 4 + q]
                                                               : 0.0f;
                p1[g * 4 + q] += dv;
                p2[g * 4 + q] = fmaf(dv, dv, p2[g * 4 + q]);
            }
        }
    }
    __syncthreads(); /* every shift read before s2 overwrites it */
#pragma unroll
    for (int g = 0; g < 2; g++) {
#pragma unroll
        for (int q = 0; q < 4; q++) {
            s1[ty * BN + g * 64 + tx * 4 + q] = p1[g * 4 + q];
            s2[ty * BN + g * 64 + tx * 4 + q] = p2[g * 4 + q];
        }
    }
    __syncthreads();
    if (ty == 0) {
        float *tile = part + (long long)blockIdx.y * 2 * N;
#pragma unroll
        for (int g = 0; g < 2; g++) {
#pragma unroll
            for (int q = 0; q < 4; q++) {
                const int jl = g * 64 + tx * 4 + q;
                if (col0 + jl >= N) {
                    continue;
                }
                float t1 = 0.0f, t2 = 0.0f;
                for (int r = 0; r < THREADS / 16; r++) {
                    t1 += s1[r * BN + jl];
                    t2 += s2[r * BN + jl];
                }
                tile[col0 + jl] = t1;
                tile[N + col0 + jl] = t2;
            }
        }
    }
}

/*
 * The tile body; zout (forward only) may be null, and then z is not stored. STATS (forward only): the tile's
 * statistics into part as well (tile_statistics).
 */
template <int MODE, bool STATS = false>
__device__ __forceinline__ void gemm_body(int M, int N, int K, int kChunk, const float *__restrict__ a,
                                          const float *__restrict__ b, float *__restrict__ c,
                                          const float *__restrict__ bias, float *__restrict__ zout,
                                          const DzParams &dzp, const f4j_weight_mask &wm,
                                          float *__restrict__ part = nullptr) {
    __shared__ __align__(16) float As[2][BK][PITCH];
    __shared__ __align__(16) float Bs[2][BK][PITCH];
    const int t = threadIdx.x;
    const int tx = t & 15, ty = t >> 4;
    const int row0 = blockIdx.y * BM;
    const int col0 = blockIdx.x * BN;
    /* This block's slice of K, and where its partial C goes (slice 0 is C itself). */
    const int kBegin = blockIdx.z * kChunk;
    const int kEnd = min(K, kBegin + kChunk);
    c += (long long)blockIdx.z * M * N;

    float acc[8][8];
#pragma unroll
    for (int i = 0; i < 8; i++) {
#pragma unroll
        for (int j = 0; j < 8; j++) {
            acc[i][j] = 0.0f;
        }
    }

    float4 ra, rb;
    int cur = 0;
    if (kBegin < kEnd) {
        load_step<MODE>(t, kBegin, kEnd, M, N, K, row0, col0, a, b, dzp, wm, ra, rb);
        store_step<MODE>(t, As[0], Bs[0], ra, rb);
    }
    __syncthreads();
    for (int k0 = kBegin; k0 < kEnd; k0 += BK) {
        const int next = k0 + BK < kEnd;
        if (next) {
            load_step<MODE>(t, k0 + BK, kEnd, M, N, K, row0, col0, a, b, dzp, wm, ra, rb);
        }
#pragma unroll
        for (int kk = 0; kk < BK; kk++) {
            float4 a0 = *reinterpret_cast<const float4 *>(&As[cur][kk][ty * 4]);
            float4 a1 = *reinterpret_cast<const float4 *>(&As[cur][kk][64 + ty * 4]);
            float4 b0 = *reinterpret_cast<const float4 *>(&Bs[cur][kk][tx * 4]);
            float4 b1 = *reinterpret_cast<const float4 *>(&Bs[cur][kk][64 + tx * 4]);
            float av[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
            float bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
            for (int i = 0; i < 8; i++) {
#pragma unroll
                for (int j = 0; j < 8; j++) {
                    acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
                }
            }
        }
        if (next) {
            /* The other buffer was last read before the previous barrier: free to overwrite. */
            store_step<MODE>(t, As[cur ^ 1], Bs[cur ^ 1], ra, rb);
        }
        __syncthreads();
        cur ^= 1;
    }

    /* Thread (tx, ty) holds rows row0 + ty*4 + {0..3, 64..67} and columns col0 + tx*4 + {0..3, 64..67}. */
    float4 bias4[2];
    if (MODE == MODE_FORWARD) {
        bias4[0] = load4(bias, 0, 0, col0 + tx * 4, 1, N);
        bias4[1] = load4(bias, 0, 0, col0 + 64 + tx * 4, 1, N);
    }
#pragma unroll
    for (int i = 0; i < 8; i++) {
        const int row = row0 + tile_row(ty, i);
        if (row >= M) {
            continue;
        }
#pragma unroll
        for (int g = 0; g < 2; g++) {
            const int col = col0 + g * 64 + tx * 4;
            if (col >= N) {
                continue;
            }
            float v[4];
            if (MODE != MODE_FORWARD) {
                float4 r4 = make_float4(acc[i][g * 4], acc[i][g * 4 + 1], acc[i][g * 4 + 2], acc[i][g * 4 + 3]);
                if (MODE == MODE_DW) {
                    /* DropConnect's dw masked and scaled as it is stored: dw[row][col], k = row * N + col. */
                    r4 = weight_masked4(r4, (unsigned long long)row * N + (unsigned long long)col, wm);
                }
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    v[q] = lane(r4, q);
                }
                store4(c, N, row, col, N, v);
            } else {
                /* The epilogue before the store; one Philox block serves four consecutive elements. */
                float zz[4];
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    zz[q] = acc[i][g * 4 + q] + lane(bias4[g], q);
                }
                if (zout != nullptr) {
                    store4(zout, N, row, col, N, zz);
                }
                const f4j_dropout &d = dzp.d;
                const unsigned long long e0 = d.base + (unsigned long long)row * N + col;
                MaskWords mw = {};
                if (d.training && !d.mapped) {
                    mw = mask_words(e0, d);
                }
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    int kept = !d.training ? 1 : d.mapped ? keep_mapped(e0 + q, d) : mw.kept(e0 + q, d.threshold);
                    v[q] = col + q < N ? f4j_epilogue(dzp.act, f4j_alpha_of(dzp.act, dzp.alpha, dzp.slope, col + q),
                                                      zz[q], kept, d.scale)
                                       : 0.0f;
                }
                store4(c, N, row, col, N, v);
            }
        }
    }
    if (STATS) {
        tile_statistics(M, N, acc, bias4, As, Bs, part);
    }
}

/* y[M x N] = epilogue(x[M x K] . w[N x K]^T + bias); z into zout unless zout is null. */
extern "C" __global__ void __launch_bounds__(THREADS, 2)
gemm_forward(int M, int N, int K, const float *x, const float *w, const float *bias, float *y, float *zout,
             F4J_ACTIVATION_PARAMS, F4J_DROPOUT_PARAMS, F4J_WEIGHT_MASK_PARAMS) {
    DzParams p = {nullptr, nullptr, nullptr, N, act, alpha, slope, F4J_DROPOUT};
    gemm_body<MODE_FORWARD>(M, N, K, K, x, w, y, bias, zout, p, F4J_WEIGHT_MASK);
}

/*
 * z[M x N] = x[M x K] . w[N x K]^T + bias, as gemm_forward writes it with the identity and no dropout, and each
 * tile's shifted column sums into part [ceil(M / BM), 2, N] (tile_statistics): batch norm's first pass.
 */
extern "C" __global__ void __launch_bounds__(THREADS, 2)
gemm_forward_stats(int M, int N, int K, const float *x, const float *w, const float *bias, float *z, float *part) {
    DzParams p = {nullptr, nullptr, nullptr, N, F4J_IDENTITY, 0.0f, nullptr, f4j_dropout_of(1.0f, 0, 0, 0, 0, 0, 0, 1)};
    gemm_body<MODE_FORWARD, true>(M, N, K, K, x, w, z, bias, nullptr, p, f4j_weight_mask_of(0, 0.0f, 0, 0, 0), part);
}

/* dx[M x N] = dz[M x K] . w[K x N], dz formed from dy, y (and z) of the [M x K] output; K split by kChunk. */
extern "C" __global__ void __launch_bounds__(THREADS, 2)
gemm_dx(int M, int N, int K, int kChunk, const float *dy, const float *y, const float *z, const float *w, float *dx,
        F4J_ACTIVATION_PARAMS, F4J_DROPOUT_PARAMS, F4J_WEIGHT_MASK_PARAMS) {
    DzParams p = {dy, y, z, K, act, alpha, slope, F4J_DROPOUT};
    gemm_body<MODE_DX>(M, N, K, kChunk, nullptr, w, dx, nullptr, nullptr, p, F4J_WEIGHT_MASK);
}

/* dw[M x N] = dz^T[M x K] . x[K x N], dz of the [K x M] output; K split by kChunk. */
extern "C" __global__ void __launch_bounds__(THREADS, 2)
gemm_dw(int M, int N, int K, int kChunk, const float *dy, const float *y, const float *z, const float *x, float *dw,
        F4J_ACTIVATION_PARAMS, F4J_DROPOUT_PARAMS, F4J_WEIGHT_MASK_PARAMS) {
    DzParams p = {dy, y, z, M, act, alpha, slope, F4J_DROPOUT};
    gemm_body<MODE_DW>(M, N, K, kChunk, nullptr, x, dw, nullptr, nullptr, p, F4J_WEIGHT_MASK);
}

/*
 * Partial db: block (x, y) sums rows [y*rows, (y+1)*rows) of dz for 256 columns, one thread per column (coalesced
 * across j), into partial[y][j]; sum_slices adds the partials in order.
 */
extern "C" __global__ void bias_grad(int n, int out, int rows, const float *dy, const float *y, const float *z,
                                     float *partial, F4J_ACTIVATION_PARAMS, F4J_DROPOUT_PARAMS) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= out) {
        return;
    }
    DzParams p = {dy, y, z, out, act, alpha, slope, F4J_DROPOUT};
    int from = blockIdx.y * rows;
    int to = min(n, from + rows);
    float s = 0.0f;
    for (int i = from; i < to; i++) {
        s += dz_at(p, i, j);
    }
    partial[(long long)blockIdx.y * out + j] = s;
}

#endif /* FUSE4J_FUSED_LINEAR_CU */
