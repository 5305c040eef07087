/*
 * Fuse4J OpenCL: the tiled GEMM behind the fused layer, forward and backward (fused_linear.cu is its CUDA
 * counterpart). One kernel, gemm, computes the three products, chosen by its mode argument: PoCL builds every
 * kernel of a program on its own, and three entry points (as CUDA has) tripled its build time. The host passes
 * the tile geometry as -D options chosen from the device's limits:
 *   WX x WY   work-items per work-group,
 *   RM        rows of the output per work-item,
 *   VN        vector width of a work-item's columns (4 on GPUs; the preferred float width, e.g. 16, on CPUs),
 *   NV        column vectors per work-item, BN / NV apart (strided so neighbouring work-items read neighbouring
 *             local memory),
 *   BK        the K slice staged in local memory per step (a multiple of 4),
 *   PAD       floats of padding per local row (keeps the transposing stores off one bank on GPUs).
 * A work-group computes a BM x BN output tile, BM = WY * RM, BN = WX * VN * NV; each work-item holds RM x (VN * NV)
 * accumulators in registers.
 */
#ifndef WX
#error "WX, WY, RM, VN, NV, BK, PAD must be defined by the host"
#endif

#include "fuse4j_common.h"

#define BM (WY * RM)
#define BN (WX * VN * NV)
#define CSTRIDE (BN / NV)
#define THREADS (WX * WY)

#define F4J_CAT_(a, b) a##b
#define F4J_CAT(a, b) F4J_CAT_(a, b)
#define floatV F4J_CAT(float, VN)
#define vloadV F4J_CAT(vload, VN)
#define vstoreV F4J_CAT(vstore, VN)

#define MODE_FORWARD 0 /* C[n x out]  = x . w^T, fused epilogue         */
#define MODE_DX 1      /* C[n x in]   = dz . w, dz formed while loading  */
#define MODE_DW 2      /* C[out x in] = dz^T . x, dz formed while loading; db = row sums of dz^T on the way */

/* Four consecutive values s[r][c .. c+3] of a rows x cols row-major matrix; zero past its edges. */
inline float4 f4j_load4(__global const float *s, int rows, int cols, int r, int c) {
    if (r >= rows || c >= cols) {
        return (float4)(0.0f);
    }
    __global const float *p = s + (long)r * cols + c;
    if (c + 4 <= cols) {
        return vload4(0, p);
    }
    float4 v = (float4)(0.0f);
    v.x = p[0];
    if (c + 1 < cols) {
        v.y = p[1];
    }
    if (c + 2 < cols) {
        v.z = p[2];
    }
    return v;
}

/*
 * DropConnect: v, the weight elements k0 .. k0+3, as the product reads them: v * scale where the weight mask keeps,
 * else 0; v as it is without a mask. Four consecutive elements span at most two Philox blocks.
 */
inline float4 f4j_weight_masked4(float4 v, ulong k0, f4j_weight_mask m) {
    if (!m.on) {
        return v;
    }
    ulong q0 = k0 >> 2;
    uint4 b0 = f4j_weight_block(q0, m);
    uint4 b1 = ((k0 + 3) >> 2) != q0 ? f4j_weight_block(q0 + 1, m) : b0;
    float vals[4] = {v.x, v.y, v.z, v.w};
    for (int c = 0; c < 4; c++) {
        ulong k = k0 + c;
        vals[c] = f4j_keep_word(f4j_word((k >> 2) == q0 ? b0 : b1, (int)(k & 3)), m.threshold)
                ? vals[c] * m.scale : 0.0f;
    }
    return (float4)(vals[0], vals[1], vals[2], vals[3]);
}

/*
 * dz[i][j .. j+3] of the [n x out] output, formed from dy and y (and z and the regenerated mask where the
 * activation needs them); zero past the edges. Four consecutive elements span at most two Philox blocks.
 */
inline float4 f4j_dz4(__global const float *dy, __global const float *y, __global const float *z, int n, int out,
                      int i, int j, int act, float alpha, __global const float *slope, f4j_dropout d) {
    float4 g = f4j_load4(dy, n, out, i, j);
    float4 yy = f4j_load4(y, n, out, i, j);
    float4 zz = f4j_dz_needs_z(act) ? f4j_load4(z, n, out, i, j) : (float4)(0.0f);
    int kept[4] = {1, 1, 1, 1};
    if (d.training && f4j_dz_needs_mask(act) && i < n && d.mapped) {
        ulong e = d.base + (ulong)i * (ulong)out + (ulong)j;
        for (int c = 0; c < 4; c++) {
            kept[c] = f4j_keep_element(e + c, d);
        }
    } else if (d.training && f4j_dz_needs_mask(act) && i < n) {
        ulong e = d.base + (ulong)i * (ulong)out + (ulong)j;
        ulong q0 = e >> 2;
        uint4 b0 = f4j_mask_block(q0, d.s0, d.s1, d.o0, d.o1);
        uint4 b1 = ((e + 3) >> 2) != q0 ? f4j_mask_block(q0 + 1, d.s0, d.s1, d.o0, d.o1) : b0;
        for (int c = 0; c < 4; c++) {
            ulong ec = e + c;
            kept[c] = f4j_keep_word(f4j_word((ec >> 2) == q0 ? b0 : b1, (int)(ec & 3)), d.threshold);
        }
    }
    /* PReLU's slope per column; past the edge (where dy loads as 0) any slope gives 0, so read none there. */
    float a[4] = {alpha, alpha, alpha, alpha};
    if (act == F4J_PRELU) {
        for (int c = 0; c < 4 && j + c < out; c++) {
            a[c] = slope[j + c];
        }
    }
    return (float4)(f4j_dz(act, a[0], d.scale, g.x, yy.x, zz.x, kept[0]),
                    f4j_dz(act, a[1], d.scale, g.y, yy.y, zz.y, kept[1]),
                    f4j_dz(act, a[2], d.scale, g.z, yy.z, zz.z, kept[2]),
                    f4j_dz(act, a[3], d.scale, g.w, yy.w, zz.w, kept[3]));
}

#if VN >= 8
/*
 * Wide (CPU) tiles draw a row's mask words for all of a work-item's columns at once: one Philox block per lane,
 * LANES = NV * VN / 4 blocks in vector lanes, so the ten rounds run on the vector units instead of once per block
 * in scalar code (on PoCL the scalar form cost more than the whole GEMM at 4096x256->256). Same counters and
 * key as f4j_mask_block, so the words are the contract's bit for bit; GPU tiles (VN = 4) keep the scalar form,
 * where each work-item needs only one or two blocks per row.
 */
#if NV * VN == 16
#define LANES 4 /* a literal, as the vector type names are pasted from it */
#define F4J_LANE_IDS ((uint4)(0, 1, 2, 3))
#elif NV * VN == 32
#define LANES 8
#define F4J_LANE_IDS ((uint8)(0, 1, 2, 3, 4, 5, 6, 7))
#elif NV * VN == 64
#define LANES 16
#define F4J_LANE_IDS ((uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#else
#error "NV * VN / 4 must be 4, 8 or 16"
#endif
#define uintL F4J_CAT(uint, LANES)
#define vstoreL F4J_CAT(vstore, LANES)

/*
 * words[j][l]: word j of the Philox block of lane l, where lane l covers the four columns starting at
 * colBase0 + (l / (VN / 4)) * CSTRIDE + (l % (VN / 4)) * 4 of row `row` (colBase0, N and the element base
 * multiples of 4, so every lane's four columns are one whole block).
 */
inline void f4j_row_words(ulong row, int N, int colBase0, f4j_dropout d, uint words[4][LANES]) {
    ulong q0 = (d.base + row * (ulong)N + (ulong)colBase0) >> 2;
    uintL ids = F4J_LANE_IDS;
    uintL off = (ids % (uint)(VN / 4)) + (ids / (uint)(VN / 4)) * (uint)(CSTRIDE / 4);
    uintL lo = (uintL)((uint)q0) + off;
    uintL hi = (uintL)((uint)(q0 >> 32)) + (uintL)(select((uintL)(0u), (uintL)(1u), lo < off));
    uintL c0 = lo, c1 = hi, c2 = (uintL)(d.o0), c3 = (uintL)(d.o1);
    uint k0 = d.s0, k1 = d.s1;
    for (int round = 0; round < 10; round++) {
        uintL hi0 = mul_hi((uintL)(F4J_PHILOX_M0), c0);
        uintL lo0 = (uintL)(F4J_PHILOX_M0) * c0;
        uintL hi1 = mul_hi((uintL)(F4J_PHILOX_M1), c2);
        uintL lo1 = (uintL)(F4J_PHILOX_M1) * c2;
        c0 = hi1 ^ c1 ^ (uintL)(k0);
        c1 = lo1;
        c2 = hi0 ^ c3 ^ (uintL)(k1);
        c3 = lo0;
        k0 += F4J_PHILOX_W0;
        k1 += F4J_PHILOX_W1;
    }
    vstoreL(c0, 0, words[0]);
    vstoreL(c1, 0, words[1]);
    vstoreL(c2, 0, words[2]);
    vstoreL(c3, 0, words[3]);
}
#endif

/*
 * C[M x N] = A[M x K] . B[K x N]; what A and B are depends on the mode (MODE_*). Out-of-range elements load as 0,
 * so any shape works; only whole tiles are stored with vector stores. Buffers a mode does not read are null.
 *
 * Forward: a = x, b = w, and the epilogue (bias, z when zout is not null, activation, Philox mask, scale) runs on
 * the accumulators before the single store of y. DropConnect (wm.on) masks w as its tiles are loaded (forward, dx)
 * and dw as it is stored, so the masked weights never exist in global memory. Backward (a is null): dy, y, z give dz in the loaders, so dz
 * never exists in global memory; b is w (dx) or x (dw); in MODE_DW the work-groups of the first column tile also
 * sum their dz^T rows into db.
 *
 * Split K (backward only, for outputs of few tiles and a long K such as dw of a 65536-row batch): work-group z
 * covers K from z * kChunk (a multiple of BK) for kChunk, and writes its partial C and db at offsets z * M * N and
 * z * M; sum_slices adds the slices up. With one slice (kChunk >= K) c and db are the final outputs.
 *
 * Batch norm's statistics (forward only, part not null): after the store, each work-group also writes, per column
 * of its tile, the sums of its rows' z shifted by the tile's first row, S1 = sum (z - c) and S2 = sum (z - c)^2,
 * to part[(2 * tile row) * N + col] and part[(2 * tile row + 1) * N + col]; bn_stats_merge (elementwise.h) then
 * merges the tiles in order. The work-items' sums over their RM rows meet in local memory (the K loop is done with
 * As and Bs) and are added in order of ty.
 */
#if BK * (BM + PAD) < WY * BN || BK * (BN + PAD) < WY * BN
#error "the statistics epilogue keeps WY x BN sums in each of As and Bs"
#endif
__kernel __attribute__((reqd_work_group_size(WX, WY, 1)))
void gemm(int mode, int M, int N, int K, int kChunk, __global const float *a, __global const float *b,
          __global float *c, __global const float *bias, __global float *zout, __global const float *dy,
          __global const float *y, __global const float *z, __global float *db, __global float *part,
          F4J_ACTIVATION_PARAMS, F4J_DROPOUT_PARAMS, F4J_WEIGHT_MASK_PARAMS) {
    __local float As[BK][BM + PAD];
    __local float Bs[BK][BN + PAD];
    const f4j_dropout d = F4J_DROPOUT;
    const f4j_weight_mask wm = F4J_WEIGHT_MASK;
    const int tx = get_local_id(0);
    const int ty = get_local_id(1);
    const int tid = ty * WX + tx;
    const int row0 = get_group_id(1) * BM;
    const int col0 = get_group_id(0) * BN;
    const int sumRows = mode == MODE_DW && get_group_id(0) == 0 && tx == 0;
    const int slice = get_group_id(2);
    const int kBegin = slice * kChunk;
    const int kEnd = min(K, kBegin + kChunk);
    c += (long)slice * M * N;
    if (sumRows) {
        db += (long)slice * M;
    }

    floatV acc[RM][NV];
#pragma unroll
    for (int r = 0; r < RM; r++) {
#pragma unroll
        for (int v = 0; v < NV; v++) {
            acc[r][v] = (floatV)(0.0f);
        }
    }
    float rowSum[RM];
    for (int r = 0; r < RM; r++) {
        rowSum[r] = 0.0f;
    }

    for (int k0 = kBegin; k0 < kEnd; k0 += BK) {
        /* A tile, As[kk][m] = A(row0 + m, k0 + kk), four source-consecutive elements per step. */
        if (mode == MODE_DW) {
            /* A(m, k) = dz[k][m]: dz rows run along m. */
            for (int g = tid; g < BK * (BM / 4); g += THREADS) {
                int kk = g / (BM / 4), m = (g % (BM / 4)) * 4;
                float4 v = f4j_dz4(dy, y, z, K, M, k0 + kk, row0 + m, act, alpha, slope, d);
                vstore4(v, 0, &As[kk][m]);
            }
        } else {
            /* A(m, k) = x[m][k] (forward) or dz[m][k] (dx): rows run along k. */
            for (int g = tid; g < BM * (BK / 4); g += THREADS) {
                int m = g / (BK / 4), kk = (g % (BK / 4)) * 4;
                float4 v = mode == MODE_FORWARD
                        ? f4j_load4(a, M, K, row0 + m, k0 + kk)
                        : f4j_dz4(dy, y, z, M, K, row0 + m, k0 + kk, act, alpha, slope, d);
                As[kk][m] = v.x;
                As[kk + 1][m] = v.y;
                As[kk + 2][m] = v.z;
                As[kk + 3][m] = v.w;
            }
        }
        /* B tile, Bs[kk][j] = B(k0 + kk, col0 + j). */
        if (mode == MODE_FORWARD) {
            /* B(k, j) = w[j][k]: w rows run along k. */
            for (int g = tid; g < BN * (BK / 4); g += THREADS) {
                int j = g / (BK / 4), kk = (g % (BK / 4)) * 4;
                float4 v = f4j_weight_masked4(f4j_load4(b, N, K, col0 + j, k0 + kk),
                                              (ulong)(col0 + j) * (ulong)K + (ulong)(k0 + kk), wm);
                Bs[kk][j] = v.x;
                Bs[kk + 1][j] = v.y;
                Bs[kk + 2][j] = v.z;
                Bs[kk + 3][j] = v.w;
            }
        } else {
            /* B(k, j) = w[k][j] (dx, masked under DropConnect) or x[k][j] (dw): rows run along j. */
            for (int g = tid; g < BK * (BN / 4); g += THREADS) {
                int kk = g / (BN / 4), j = (g % (BN / 4)) * 4;
                float4 v = f4j_load4(b, K, N, k0 + kk, col0 + j);
                if (mode == MODE_DX) {
                    v = f4j_weight_masked4(v, (ulong)(k0 + kk) * (ulong)N + (ulong)(col0 + j), wm);
                }
                vstore4(v, 0, &Bs[kk][j]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);

#pragma unroll
        for (int kk = 0; kk < BK; kk++) {
            floatV bv[NV];
#pragma unroll
            for (int v = 0; v < NV; v++) {
                bv[v] = vloadV(0, &Bs[kk][tx * VN + v * CSTRIDE]);
            }
#pragma unroll
            for (int r = 0; r < RM; r++) {
                floatV av = (floatV)(As[kk][ty * RM + r]);
#pragma unroll
                for (int v = 0; v < NV; v++) {
                    acc[r][v] = fma(av, bv[v], acc[r][v]);
                }
            }
        }
        if (sumRows) {
            for (int kk = 0; kk < BK; kk++) {
                for (int r = 0; r < RM; r++) {
                    rowSum[r] += As[kk][ty * RM + r];
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int r = 0; r < RM; r++) {
        int row = row0 + ty * RM + r;
        if (row >= M) {
            break;
        }
        if (sumRows) {
            db[row] = rowSum[r];
        }
#if VN >= 8
        uint words[4][LANES];
        const int laneMask = mode == MODE_FORWARD && d.training && !d.mapped && (N & 3) == 0
                && (d.base & 3) == 0;
        if (laneMask) {
            f4j_row_words((ulong)row, N, col0 + tx * VN, d, words);
        }
#endif
        for (int v = 0; v < NV; v++) {
            int colBase = col0 + tx * VN + v * CSTRIDE;
            if (colBase >= N) {
                break;
            }
            __global float *dst = c + (long)row * N + colBase;
            if (mode != MODE_FORWARD) {
                floatV out = acc[r][v];
                if (mode == MODE_DW && wm.on) {
                    /* DropConnect's dw = (dz^T . x) masked and scaled as it is stored: dw[row][col], k = row * N + col. */
                    float vals[VN];
                    vstoreV(out, 0, vals);
                    for (int q = 0; q < VN; q += 4) {
                        float4 m4 = f4j_weight_masked4(vload4(0, &vals[q]),
                                                       (ulong)row * (ulong)N + (ulong)(colBase + q), wm);
                        vstore4(m4, 0, &vals[q]);
                    }
                    out = vloadV(0, vals);
                }
                if (colBase + VN <= N) {
                    vstoreV(out, 0, dst);
                } else {
                    float vals[VN];
                    vstoreV(out, 0, vals);
                    for (int cc = 0; colBase + cc < N; cc++) {
                        dst[cc] = vals[cc];
                    }
                }
                continue;
            }
            /* The epilogue, before the store: bias, optional z, activation, mask (one Philox block per 4). */
            float vals[VN];
            vstoreV(acc[r][v], 0, vals);
            int width = min(VN, N - colBase);
            ulong cachedQ = ~(ulong)0;
            uint4 blk = (uint4)(0u);
            for (int cc = 0; cc < width; cc++) {
                int col = colBase + cc;
                ulong e = (ulong)row * (ulong)N + (ulong)col;
                float zz = vals[cc] + bias[col];
                if (zout != 0) {
                    zout[e] = zz;
                }
                int kept = 1;
#if VN >= 8
                if (laneMask) {
                    kept = f4j_keep_word(words[cc & 3][v * (VN / 4) + (cc >> 2)], d.threshold);
                } else
#endif
                if (d.training && d.mapped) {
                    kept = f4j_keep_element(d.base + e, d);
                } else if (d.training) {
                    ulong me = d.base + e;
                    ulong q = me >> 2;
                    if (q != cachedQ) {
                        blk = f4j_mask_block(q, d.s0, d.s1, d.o0, d.o1);
                        cachedQ = q;
                    }
                    kept = f4j_keep_word(f4j_word(blk, (int)(me & 3)), d.threshold);
                }
                dst[cc] = f4j_epilogue(act, f4j_alpha_of(act, alpha, slope, col), zz, kept, d.scale);
            }
        }
    }
    if (mode == MODE_FORWARD && part != 0) {
        /* The tile's first row of each column, its shift: local column jl = tx * VN + v * CSTRIDE + cc. */
        __local float *shift = &Bs[0][0];
        __local float *s1 = &As[0][0];
        __local float *s2 = &Bs[0][0];
        if (ty == 0) {
            for (int v = 0; v < NV; v++) {
                float vals[VN];
                vstoreV(acc[0][v], 0, vals);
                for (int cc = 0; cc < VN; cc++) {
                    int col = col0 + tx * VN + v * CSTRIDE + cc;
                    shift[tx * VN + v * CSTRIDE + cc] = col < N ? vals[cc] + bias[col] : 0.0f;
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        float c[NV][VN], p1[NV][VN], p2[NV][VN];
        for (int v = 0; v < NV; v++) {
            for (int cc = 0; cc < VN; cc++) {
                c[v][cc] = shift[tx * VN + v * CSTRIDE + cc];
                p1[v][cc] = 0.0f;
                p2[v][cc] = 0.0f;
            }
        }
        /* This work-item's rows, z formed as the epilogue formed it (the same two roundings). */
        for (int r = 0; r < RM && row0 + ty * RM + r < M; r++) {
            for (int v = 0; v < NV; v++) {
                float vals[VN];
                vstoreV(acc[r][v], 0, vals);
                for (int cc = 0; cc < VN; cc++) {
                    int col = col0 + tx * VN + v * CSTRIDE + cc;
                    float dv = col < N ? vals[cc] + bias[col] - c[v][cc] : 0.0f;
                    p1[v][cc] += dv;
                    p2[v][cc] = fma(dv, dv, p2[v][cc]);
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE); /* every shift read before s2 overwrites it */
        for (int v = 0; v < NV; v++) {
            for (int cc = 0; cc < VN; cc++) {
                int jl = tx * VN + v * CSTRIDE + cc;
                s1[ty * BN + jl] = p1[v][cc];
                s2[ty * BN + jl] = p2[v][cc];
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (ty == 0) {
            __global float *tile = part + (long)get_group_id(1) * 2 * N;
            for (int v = 0; v < NV; v++) {
                for (int cc = 0; cc < VN; cc++) {
                    int jl = tx * VN + v * CSTRIDE + cc;
                    if (col0 + jl >= N) {
                        continue;
                    }
                    float t1 = 0.0f, t2 = 0.0f;
                    for (int t = 0; t < WY; t++) {
                        t1 += s1[t * BN + jl];
                        t2 += s2[t * BN + jl];
                    }
                    tile[col0 + jl] = t1;
                    tile[N + col0 + jl] = t2;
                }
            }
        }
    }
}
