/*
 * Fuse4J CUDA kernels, compiled by nvcc to PTX (kernels/make-ptx) and loaded with the driver API. The Philox
 * mask, the epilogue and dz come from fuse4j_common.h, the same text the OpenCL backend compiles.
 *
 * The GEMM: 128 x 128 outputs per block of 256 threads, each thread 8 x 8 in registers, K staged through shared
 * memory 8 at a time. FP32 FMA only (no tensor cores, so no TF32 rounding). The backward products may split K
 * across blockIdx.z (few output tiles, long K: dw of a tall batch), each slice writing its own partial C that
 * reduce_slices then adds in a fixed order. Three specialisations:
 *   forward  C[n x out]  = x . w^T, then bias, activation, dropout before the store
 *   dx       C[n x in]   = dz . w,   dz formed from dy and y while the A tile is loaded
 *   dw       C[out x in] = dz^T . x, likewise
 */
#include "fuse4j_common.h"

#define BM 128
#define BN 128
#define BK 8
#define TR 8
#define TC 8
#define THREADS 256

enum { MODE_FORWARD = 0, MODE_DX = 1, MODE_DW = 2 };

struct DzParams {
    const float *dy;
    const float *y;
    const float *z;
    int ld;
    int act;
    float alpha;
    float scale;
    int training;
    unsigned long long threshold;
    unsigned int s0, s1, o0, o1;
};

__device__ __forceinline__ float dz_at(const DzParams &p, int i, int j) {
    long long e = (long long)i * p.ld + j;
    int kept = f4j_dz_needs_mask(p.act)
            ? f4j_keep((unsigned long long)e, p.training, p.threshold, p.s0, p.s1, p.o0, p.o1) : 1;
    float zz = p.act == F4J_GELU ? p.z[e] : 0.0f;
    return f4j_dz(p.act, p.alpha, p.scale, p.dy[e], p.y[e], zz, kept);
}

template <int MODE>
__device__ __forceinline__ void gemm_body(int M, int N, int K, int kChunk, const float *__restrict__ a,
                                          const float *__restrict__ b, float *__restrict__ c,
                                          const float *__restrict__ bias, float *__restrict__ zout, int storeZ,
                                          const DzParams &dzp) {
    __shared__ float As[BK][BM];
    __shared__ float Bs[BK][BN];
    const int t = threadIdx.x;
    const int tr = t / (BN / TC);
    const int tc = t % (BN / TC);
    const int row0 = blockIdx.y * BM;
    const int col0 = blockIdx.x * BN;
    /* This block's slice of K, and where its partial C goes (slice 0 is C itself). */
    const int kBegin = blockIdx.z * kChunk;
    const int kEnd = min(K, kBegin + kChunk);
    c += (long long)blockIdx.z * M * N;

    float acc[TR][TC];
#pragma unroll
    for (int i = 0; i < TR; i++) {
#pragma unroll
        for (int j = 0; j < TC; j++) {
            acc[i][j] = 0.0f;
        }
    }

    for (int k0 = kBegin; k0 < kEnd; k0 += BK) {
        /* A tile into As[kk][m]. */
        if (MODE == MODE_DW) {
            /* A(m, k) = dz[k][m]: a row of dz runs along m. */
            int kk = t / 32, m = (t % 32) * 4;
#pragma unroll
            for (int q = 0; q < 4; q++) {
                int gm = row0 + m + q, gk = k0 + kk;
                As[kk][m + q] = (gm < M && gk < kEnd) ? dz_at(dzp, gk, gm) : 0.0f;
            }
        } else {
            /* A(m, k) along k: x rows (forward) or dz rows (dx). */
            int m = t / 2, kk = (t % 2) * 4;
            int gm = row0 + m;
#pragma unroll
            for (int q = 0; q < 4; q++) {
                int gk = k0 + kk + q;
                float v = 0.0f;
                if (gm < M && gk < kEnd) {
                    v = MODE == MODE_FORWARD ? a[(long long)gm * K + gk] : dz_at(dzp, gm, gk);
                }
                As[kk + q][m] = v;
            }
        }
        /* B tile into Bs[kk][n]. */
        if (MODE == MODE_FORWARD) {
            /* B(k, j) = w[j][k]: a row of w runs along k. */
            int n = t / 2, kk = (t % 2) * 4;
            int gn = col0 + n;
            if (gn < N && k0 + kk + 3 < kEnd && (K & 3) == 0) {
                float4 v = *reinterpret_cast<const float4 *>(b + (long long)gn * K + k0 + kk);
                Bs[kk][n] = v.x;
                Bs[kk + 1][n] = v.y;
                Bs[kk + 2][n] = v.z;
                Bs[kk + 3][n] = v.w;
            } else {
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    int gk = k0 + kk + q;
                    Bs[kk + q][n] = (gn < N && gk < kEnd) ? b[(long long)gn * K + gk] : 0.0f;
                }
            }
        } else {
            /* B(k, j) = src[k][j] (w for dx, x for dw): rows run along j. */
            int kk = t / 32, n = (t % 32) * 4;
            int gk = k0 + kk, gn = col0 + n;
            if (gk < kEnd && gn + 3 < N && (N & 3) == 0) {
                *reinterpret_cast<float4 *>(&Bs[kk][n]) = *reinterpret_cast<const float4 *>(b + (long long)gk * N + gn);
            } else {
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    Bs[kk][n + q] = (gk < kEnd && gn + q < N) ? b[(long long)gk * N + gn + q] : 0.0f;
                }
            }
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < BK; kk++) {
            float4 a0 = *reinterpret_cast<const float4 *>(&As[kk][tr * TR]);
            float4 a1 = *reinterpret_cast<const float4 *>(&As[kk][tr * TR + 4]);
            float4 b0 = *reinterpret_cast<const float4 *>(&Bs[kk][tc * TC]);
            float4 b1 = *reinterpret_cast<const float4 *>(&Bs[kk][tc * TC + 4]);
            float av[TR] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
            float bv[TC] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
            for (int i = 0; i < TR; i++) {
#pragma unroll
                for (int j = 0; j < TC; j++) {
                    acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
                }
            }
        }
        __syncthreads();
    }

    const int colBase = col0 + tc * TC;
#pragma unroll
    for (int i = 0; i < TR; i++) {
        int row = row0 + tr * TR + i;
        if (row >= M) {
            break;
        }
        if (MODE != MODE_FORWARD) {
#pragma unroll
            for (int j = 0; j < TC; j++) {
                if (colBase + j < N) {
                    c[(long long)row * N + colBase + j] = acc[i][j];
                }
            }
            continue;
        }
        /* The epilogue before the store; one Philox block serves four consecutive elements. */
        unsigned long long cachedQ = ~0ull;
        uint4 blk = make_uint4(0u, 0u, 0u, 0u);
#pragma unroll
        for (int j = 0; j < TC; j++) {
            int col = colBase + j;
            if (col < N) {
                long long e = (long long)row * N + col;
                float zz = acc[i][j] + bias[col];
                if (storeZ) {
                    zout[e] = zz;
                }
                int kept = 1;
                if (dzp.training) {
                    unsigned long long q = (unsigned long long)e >> 2;
                    if (q != cachedQ) {
                        blk = f4j_mask_block(q, dzp.s0, dzp.s1, dzp.o0, dzp.o1);
                        cachedQ = q;
                    }
                    kept = f4j_keep_word(f4j_word(blk, (int)(e & 3)), dzp.threshold);
                }
                c[e] = f4j_epilogue(dzp.act, dzp.alpha, zz, kept, dzp.scale);
            }
        }
    }
}

#define GEMM_PARAMS                                                                                               \
    int M, int N, int K, int kChunk, const float *a, const float *b, float *c, const float *bias, float *zout,     \
            int storeZ,                                                                                           \
            const float *dy, const float *y, const float *z, int ld, int act, float alpha, float scale,            \
            int training, unsigned long long threshold, unsigned int s0, unsigned int s1, unsigned int o0,          \
            unsigned int o1
#define GEMM_CALL(MODE)                                                                                           \
    DzParams p = {dy, y, z, ld, act, alpha, scale, training, threshold, s0, s1, o0, o1};                           \
    gemm_body<MODE>(M, N, K, kChunk, a, b, c, bias, zout, storeZ, p)

extern "C" __global__ void __launch_bounds__(THREADS) gemm_forward(GEMM_PARAMS) { GEMM_CALL(MODE_FORWARD); }
extern "C" __global__ void __launch_bounds__(THREADS) gemm_dx(GEMM_PARAMS) { GEMM_CALL(MODE_DX); }
extern "C" __global__ void __launch_bounds__(THREADS) gemm_dw(GEMM_PARAMS) { GEMM_CALL(MODE_DW); }

/*
 * Partial db: block (x, y) sums rows [y*rows, (y+1)*rows) of dz for 256 columns, one thread per column (coalesced
 * across j), into partial[y][j]; reduce_slices adds the partials in order.
 */
extern "C" __global__ void bias_grad(int n, int out, int rows, const float *dy, const float *y, const float *z,
                                     float *partial, int act, float alpha, float scale, int training,
                                     unsigned long long threshold, unsigned int s0, unsigned int s1, unsigned int o0,
                                     unsigned int o1) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= out) {
        return;
    }
    DzParams p = {dy, y, z, out, act, alpha, scale, training, threshold, s0, s1, o0, o1};
    int from = blockIdx.y * rows;
    int to = min(n, from + rows);
    float s = 0.0f;
    for (int i = from; i < to; i++) {
        s += dz_at(p, i, j);
    }
    partial[(long long)blockIdx.y * out + j] = s;
}

/* out[i] = sum over s of slices[s][i], s in order: the deterministic second half of split-K and of db. */
extern "C" __global__ void reduce_slices(int count, long long len, const float *slices, float *out) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= len) {
        return;
    }
    float s = 0.0f;
    for (int k = 0; k < count; k++) {
        s += slices[(long long)k * len + i];
    }
    out[i] = s;
}

/* The mask as 1f / 0f: one thread per Philox block, i.e. per four elements. */
extern "C" __global__ void dropout_mask(long long total, float *m, int training, unsigned long long threshold,
                                        unsigned int s0, unsigned int s1, unsigned int o0, unsigned int o1) {
    long long q = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long e0 = q << 2;
    if (e0 >= total) {
        return;
    }
    uint4 blk = training ? f4j_mask_block((unsigned long long)q, s0, s1, o0, o1) : make_uint4(0u, 0u, 0u, 0u);
    for (int l = 0; l < 4 && e0 + l < total; l++) {
        m[e0 + l] = (!training || f4j_keep_word(f4j_word(blk, l), threshold)) ? 1.0f : 0.0f;
    }
}

/* Softmax cross-entropy per row: gradient (softmax - onehot) / n, the row's loss, and whether arg-max hit. */
extern "C" __global__ void softmax_xent_rows(int n, int classes, const float *logits, const float *labels,
                                             float *grad, float *rowLoss, float *rowCorrect) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    const float *l = logits + (long long)i * classes;
    float *g = grad + (long long)i * classes;
    int label = (int)labels[i];
    float mx = l[0];
    int arg = 0;
    for (int j = 1; j < classes; j++) {
        if (l[j] > mx) {
            mx = l[j];
            arg = j;
        }
    }
    float sum = 0.0f;
    for (int j = 0; j < classes; j++) {
        float ex = expf(l[j] - mx);
        g[j] = ex;
        sum += ex;
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < classes; j++) {
        g[j] = (g[j] * inv - (j == label ? 1.0f : 0.0f)) / n;
    }
    rowLoss[i] = logf(sum) - (l[label] - mx);
    rowCorrect[i] = arg == label ? 1.0f : 0.0f;
}

/* Sums two length-n vectors in one block of 256 threads, so only two numbers go back to the host. */
extern "C" __global__ void sum2(int n, const float *a, const float *b, float *out) {
    __shared__ float sa[256];
    __shared__ float sb[256];
    int t = threadIdx.x;
    float x = 0.0f, yy = 0.0f;
    for (int i = t; i < n; i += 256) {
        x += a[i];
        yy += b[i];
    }
    sa[t] = x;
    sb[t] = yy;
    __syncthreads();
    for (int s = 128; s > 0; s >>= 1) {
        if (t < s) {
            sa[t] += sa[t + s];
            sb[t] += sb[t + s];
        }
        __syncthreads();
    }
    if (t == 0) {
        out[0] = sa[0];
        out[1] = sb[0];
    }
}

/* PyTorch's SGD: g = grad + wd*p; v = momentum*v + g; p -= lr*v. */
extern "C" __global__ void sgd_step(int len, float *p, const float *g, float *v, float lr, float momentum, float wd) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < len) {
        float gi = g[i] + wd * p[i];
        float vi = momentum * v[i] + gi;
        v[i] = vi;
        p[i] -= lr * vi;
    }
}

/* PyTorch's Adam with L2 weight decay; c1, c2 are the bias corrections 1 - beta^step. */
extern "C" __global__ void adam_step(int len, float *p, const float *g, float *m, float *v, float lr, float beta1,
                                     float beta2, float eps, float wd, float c1, float c2) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < len) {
        float gi = g[i] + wd * p[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= lr * (mi / c1) / (sqrtf(vi / c2) + eps);
    }
}
