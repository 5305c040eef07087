/*
 * Fuse4J OpenCL kernels. The host prepends fuse4j_common.h (Philox, keep test, epilogue, dz) and passes the tile
 * sizes as -D options chosen from the device's limits:
 *   TM x TN  outputs per work-group, TK  the K slice staged in local memory per step,
 *   RM x RN  outputs per work-item (RN = 4: one float4 of consecutive columns).
 * A work-group is (TN/RN) x (TM/RM) work-items.
 */
#ifndef TM
#error "TM, TN, TK, RM must be defined by the host"
#endif
#define RN 4
#define WX (TN / RN)
#define WY (TM / RM)

#define MODE_FORWARD 0 /* C[n x out] = x . w^T, fused epilogue          */
#define MODE_DX 1      /* C[n x in]  = dz . w, dz formed while loading   */
#define MODE_DW 2      /* C[out x in] = dz^T . x, dz formed while loading */

/* dz[i][j] of an [rows x ld] output from dy, y (and z, the regenerated mask where the activation needs them). */
inline float dz_at(__global const float *dy, __global const float *y, __global const float *z, int ld, int i, int j,
                   int act, float alpha, float scale, int training, ulong threshold, uint s0, uint s1, uint o0,
                   uint o1) {
    long e = (long)i * ld + j;
    int kept = f4j_dz_needs_mask(act) ? f4j_keep((ulong)e, training, threshold, s0, s1, o0, o1) : 1;
    float zz = act == F4J_GELU ? z[e] : 0.0f;
    return f4j_dz(act, alpha, scale, dy[e], y[e], zz, kept);
}

/*
 * C[M x N] = A[M x K] . B[K x N], tiled in local memory, RM x 4 outputs per work-item in registers.
 * What A and B are depends on the mode (see MODE_*); out-of-range elements load as 0.
 */
__kernel __attribute__((reqd_work_group_size(WX, WY, 1)))
void gemm(int mode, int M, int N, int K,
          __global const float *a, __global const float *b, __global float *c,
          __global const float *bias, __global float *zout, int storeZ,
          __global const float *dy, __global const float *y, __global const float *z, int ldo,
          int act, float alpha, float scale, int training, ulong threshold, uint s0, uint s1, uint o0, uint o1) {
    __local float As[TK][TM];
    __local float Bs[TK][TN];
    const int tx = get_local_id(0);
    const int ty = get_local_id(1);
    const int tid = ty * WX + tx;
    const int threads = WX * WY;
    const int row0 = get_group_id(1) * TM;
    const int col0 = get_group_id(0) * TN;

    float4 acc[RM];
    for (int r = 0; r < RM; r++) {
        acc[r] = (float4)(0.0f);
    }

    for (int k0 = 0; k0 < K; k0 += TK) {
        /* A tile: As[kk][m] = A(row0 + m, k0 + kk); consecutive work-items read consecutive addresses. */
        if (mode == MODE_DW) {
            /* A(m, k) = dz[k][m]: dz rows run along m. */
            for (int l = tid; l < TM * TK; l += threads) {
                int kk = l / TM, m = l % TM;
                int gm = row0 + m, gk = k0 + kk;
                As[kk][m] = (gm < M && gk < K)
                        ? dz_at(dy, y, z, ldo, gk, gm, act, alpha, scale, training, threshold, s0, s1, o0, o1)
                        : 0.0f;
            }
        } else {
            for (int l = tid; l < TM * TK; l += threads) {
                int m = l / TK, kk = l % TK;
                int gm = row0 + m, gk = k0 + kk;
                float v = 0.0f;
                if (gm < M && gk < K) {
                    v = mode == MODE_FORWARD ? a[(long)gm * K + gk]
                            : dz_at(dy, y, z, ldo, gm, gk, act, alpha, scale, training, threshold, s0, s1, o0, o1);
                }
                As[kk][m] = v;
            }
        }
        /* B tile: Bs[kk][nn] = B(k0 + kk, col0 + nn). */
        if (mode == MODE_FORWARD) {
            /* B(k, j) = w[j][k]: w rows run along k. */
            for (int l = tid; l < TN * TK; l += threads) {
                int nn = l / TK, kk = l % TK;
                int gn = col0 + nn, gk = k0 + kk;
                Bs[kk][nn] = (gn < N && gk < K) ? b[(long)gn * K + gk] : 0.0f;
            }
        } else {
            /* B(k, j) = src[k][j] (w for dx, x for dw): rows run along j. */
            for (int l = tid; l < TN * TK; l += threads) {
                int kk = l / TN, nn = l % TN;
                int gn = col0 + nn, gk = k0 + kk;
                Bs[kk][nn] = (gn < N && gk < K) ? b[(long)gk * N + gn] : 0.0f;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TK; kk++) {
            float4 bv = vload4(tx, &Bs[kk][0]);
            for (int r = 0; r < RM; r++) {
                acc[r] = fma((float4)(As[kk][ty * RM + r]), bv, acc[r]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    const int colBase = col0 + tx * RN;
    for (int r = 0; r < RM; r++) {
        int row = row0 + ty * RM + r;
        if (row >= M) {
            break;
        }
        float v[4] = {acc[r].x, acc[r].y, acc[r].z, acc[r].w};
        if (mode != MODE_FORWARD) {
            for (int cc = 0; cc < RN; cc++) {
                if (colBase + cc < N) {
                    c[(long)row * N + colBase + cc] = v[cc];
                }
            }
            continue;
        }
        /* The epilogue, before the store: bias, optional z, activation, Philox mask (one block per 4 elements). */
        ulong cachedQ = ~(ulong)0;
        uint4 blk = (uint4)(0u);
        for (int cc = 0; cc < RN; cc++) {
            int col = colBase + cc;
            if (col >= N) {
                break;
            }
            long e = (long)row * N + col;
            float zz = v[cc] + bias[col];
            if (storeZ) {
                zout[e] = zz;
            }
            int kept = 1;
            if (training) {
                ulong q = (ulong)e >> 2;
                if (q != cachedQ) {
                    blk = f4j_mask_block(q, s0, s1, o0, o1);
                    cachedQ = q;
                }
                kept = f4j_keep_word(f4j_word(blk, (int)(e & 3)), threshold);
            }
            c[e] = f4j_epilogue(act, alpha, zz, kept, scale);
        }
    }
}

/* db[j] = sum_i dz[i][j]: one work-item per column, reading rows in order (coalesced across j). */
__kernel void bias_grad(int n, int out, __global const float *dy, __global const float *y, __global const float *z,
                        __global float *db, int act, float alpha, float scale, int training, ulong threshold,
                        uint s0, uint s1, uint o0, uint o1) {
    int j = get_global_id(0);
    if (j >= out) {
        return;
    }
    float s = 0.0f;
    for (int i = 0; i < n; i++) {
        s += dz_at(dy, y, z, out, i, j, act, alpha, scale, training, threshold, s0, s1, o0, o1);
    }
    db[j] = s;
}

/* The mask as 1f / 0f: one work-item per Philox block, i.e. per four elements. */
__kernel void dropout_mask(long total, __global float *m, int training, ulong threshold, uint s0, uint s1, uint o0,
                           uint o1) {
    long q = get_global_id(0);
    long e0 = q << 2;
    if (e0 >= total) {
        return;
    }
    uint4 blk = training ? f4j_mask_block((ulong)q, s0, s1, o0, o1) : (uint4)(0u);
    for (int l = 0; l < 4 && e0 + l < total; l++) {
        m[e0 + l] = (!training || f4j_keep_word(f4j_word(blk, l), threshold)) ? 1.0f : 0.0f;
    }
}

/* Softmax cross-entropy per row: gradient (softmax - onehot) / n, the row's loss, and whether arg-max hit. */
__kernel void softmax_xent_rows(int n, int classes, __global const float *logits, __global const float *labels,
                                __global float *grad, __global float *rowLoss, __global float *rowCorrect) {
    int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    __global const float *l = logits + (long)i * classes;
    __global float *g = grad + (long)i * classes;
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
        float ex = exp(l[j] - mx);
        g[j] = ex;
        sum += ex;
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < classes; j++) {
        g[j] = (g[j] * inv - (j == label ? 1.0f : 0.0f)) / n;
    }
    rowLoss[i] = log(sum) - (l[label] - mx);
    rowCorrect[i] = arg == label ? 1.0f : 0.0f;
}

/* Sums two length-n vectors in one work-group (local size RED), so only two numbers go back to the host. */
__kernel void sum2(int n, __global const float *a, __global const float *b, __global float *out) {
    __local float sa[RED];
    __local float sb[RED];
    int t = get_local_id(0);
    float x = 0.0f, yy = 0.0f;
    for (int i = t; i < n; i += RED) {
        x += a[i];
        yy += b[i];
    }
    sa[t] = x;
    sb[t] = yy;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RED / 2; s > 0; s >>= 1) {
        if (t < s) {
            sa[t] += sa[t + s];
            sb[t] += sb[t + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t == 0) {
        out[0] = sa[0];
        out[1] = sb[0];
    }
}

/* PyTorch's SGD: g = grad + wd*p; v = momentum*v + g; p -= lr*v. */
__kernel void sgd_step(int len, __global float *p, __global const float *g, __global float *v, float lr,
                       float momentum, float wd) {
    int i = get_global_id(0);
    if (i < len) {
        float gi = g[i] + wd * p[i];
        float vi = momentum * v[i] + gi;
        v[i] = vi;
        p[i] -= lr * vi;
    }
}

/* PyTorch's Adam with L2 weight decay; c1, c2 are the bias corrections 1 - beta^step. */
__kernel void adam_step(int len, __global float *p, __global const float *g, __global float *m, __global float *v,
                        float lr, float beta1, float beta2, float eps, float wd, float c1, float c2) {
    int i = get_global_id(0);
    if (i < len) {
        float gi = g[i] + wd * p[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= lr * (mi / c1) / (sqrt(vi / c2) + eps);
    }
}
