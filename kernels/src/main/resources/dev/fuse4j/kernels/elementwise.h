/*
 * Fuse4J's kernels outside the GEMM, written once for OpenCL C and CUDA C on the dialect macros of
 * fuse4j_common.h: the dropout mask and inverted dropout on its own, softmax cross-entropy and its two-number sum, the sum of split-K slices,
 * PReLU's slope gradient, the optimiser steps, and batch normalisation's statistics, normalisation and backward.
 * The OpenCL backend builds this file as a program (its host defines RED); fuse4j.cu compiles it into the PTX.
 * Every kernel is one-dimensional, launched in groups the host chooses (dev.fuse4j.kernels.ElementwiseKernels
 * launches them for both backends).
 */
#ifndef FUSE4J_ELEMENTWISE_H
#define FUSE4J_ELEMENTWISE_H

#include "fuse4j_common.h"

/* Work-items of sum2's single work-group, a power of two; the OpenCL host sets it from the device's limit. */
#ifndef RED
#define RED 256
#endif

/* The words of Philox block q that dropout_mask and dropout_apply read, unless eval or channel/variational. */
F4J_FN uint4 f4j_block_words(f4j_u64 q, f4j_dropout d) {
    return d.training && !d.mapped ? f4j_mask_block(q, d.s0, d.s1, d.o0, d.o1) : F4J_UINT4(0u, 0u, 0u, 0u);
}

/* Whether element e (element base included) is kept, given the words of its block from f4j_block_words. */
F4J_FN int f4j_kept_in_block(f4j_u64 e, uint4 blk, f4j_dropout d) {
    return !d.training || (d.mapped ? f4j_keep_element(e, d) : f4j_keep_word(f4j_word(blk, (int)(e & 3)), d.threshold));
}

/*
 * The mask as 1f / 0f: m[i] is the mask of element element_base + i, for i < total. One work-item per four
 * elements, aligned as Philox blocks, so a base that is not a multiple of 4 shares its first block with the elements
 * before; channel and variational dropout draw each element's own mask index instead.
 * With DropConnect's weight-mask words it is the weight mask of a [rows x cols] weight instead (one index per
 * weight; the output words then come as eval with base 0).
 */
F4J_KERNEL void dropout_mask(f4j_i64 total, F4J_GLOBAL float *m, F4J_DROPOUT_PARAMS, F4J_WEIGHT_MASK_PARAMS) {
    const f4j_dropout d = F4J_DROPOUT;
    const f4j_weight_mask wm = F4J_WEIGHT_MASK;
    f4j_u64 q = (d.base >> 2) + (f4j_u64)F4J_GLOBAL_ID;
    f4j_u64 end = d.base + (f4j_u64)total;
    if ((q << 2) >= end) {
        return;
    }
    if (wm.on) {
        /* DropConnect (its output words eval with base 0) draws the weight stream instead. */
        uint4 wblk = f4j_weight_block(q, wm);
        for (int l = 0; l < 4; l++) {
            f4j_u64 e = (q << 2) + l;
            if (e < end) {
                m[e] = f4j_keep_word(f4j_word(wblk, l), wm.threshold) ? 1.0f : 0.0f;
            }
        }
        return;
    }
    uint4 blk = f4j_block_words(q, d);
    for (int l = 0; l < 4; l++) {
        f4j_u64 e = (q << 2) + l;
        if (e >= d.base && e < end) {
            m[e - d.base] = f4j_kept_in_block(e, blk, d) ? 1.0f : 0.0f;
        }
    }
}

/*
 * Inverted dropout of x: out[i] = x[i] * scale where element element_base + i is kept, else 0, for i < total (a
 * copy in eval, where scale is 1). Work-items as dropout_mask's.
 */
F4J_KERNEL void dropout_apply(f4j_i64 total, F4J_GLOBAL const float *x, F4J_GLOBAL float *out, F4J_DROPOUT_PARAMS) {
    const f4j_dropout d = F4J_DROPOUT;
    f4j_u64 q = (d.base >> 2) + (f4j_u64)F4J_GLOBAL_ID;
    f4j_u64 end = d.base + (f4j_u64)total;
    if ((q << 2) >= end) {
        return;
    }
    uint4 blk = f4j_block_words(q, d);
    for (int l = 0; l < 4; l++) {
        f4j_u64 e = (q << 2) + l;
        if (e >= d.base && e < end) {
            out[e - d.base] = f4j_kept_in_block(e, blk, d) ? x[e - d.base] * d.scale : 0.0f;
        }
    }
}

/* Softmax cross-entropy per row of n: gradient (softmax - onehot) / batch, where batch >= n counts the rows of the
 * whole batch these rows are a slice of; the row's loss, and whether arg-max hit. */
F4J_KERNEL void softmax_xent_rows(int n, int classes, int batch, F4J_GLOBAL const float *logits,
                                  F4J_GLOBAL const float *labels, F4J_GLOBAL float *grad,
                                  F4J_GLOBAL float *row_loss, F4J_GLOBAL float *row_correct) {
    f4j_i64 i = F4J_GLOBAL_ID;
    if (i >= n) {
        return;
    }
    F4J_GLOBAL const float *l = logits + i * classes;
    F4J_GLOBAL float *g = grad + i * classes;
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
        float ex = F4J_EXP(l[j] - mx);
        g[j] = ex;
        sum += ex;
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < classes; j++) {
        g[j] = (g[j] * inv - (j == label ? 1.0f : 0.0f)) / batch;
    }
    row_loss[i] = F4J_LOG(sum) - (l[label] - mx);
    row_correct[i] = arg == label ? 1.0f : 0.0f;
}

/* Sums two length-n vectors in one work-group of RED work-items, so only two numbers go back to the host. */
F4J_KERNEL void sum2(int n, F4J_GLOBAL const float *a, F4J_GLOBAL const float *b, F4J_GLOBAL float *out) {
    F4J_LOCAL float sa[RED];
    F4J_LOCAL float sb[RED];
    int t = F4J_LOCAL_ID;
    float x = 0.0f, y = 0.0f;
    for (int i = t; i < n; i += RED) {
        x += a[i];
        y += b[i];
    }
    sa[t] = x;
    sb[t] = y;
    F4J_BARRIER();
    for (int s = RED / 2; s > 0; s >>= 1) {
        if (t < s) {
            sa[t] += sa[t + s];
            sb[t] += sb[t + s];
        }
        F4J_BARRIER();
    }
    if (t == 0) {
        out[0] = sa[0];
        out[1] = sb[0];
    }
}

/* out[i] = sum over s < slices of parts[s * len + i], s in order: the deterministic end of a split-K product. */
F4J_KERNEL void sum_slices(int slices, f4j_i64 len, F4J_GLOBAL const float *parts, F4J_GLOBAL float *out) {
    f4j_i64 i = F4J_GLOBAL_ID;
    if (i >= len) {
        return;
    }
    float sum = 0.0f;
    for (int s = 0; s < slices; s++) {
        sum += parts[s * len + i];
    }
    out[i] = sum;
}

/*
 * PReLU's slope gradient in row chunks: work-item t = c * out + j sums, over rows [c * rows, (c + 1) * rows) of the
 * [n x out] output, the terms f4j_slope_term of column j (dy, the stored z and the regenerated mask) into
 * partial[t]; sum_slices then adds the chunks in order. Neighbouring work-items read neighbouring columns.
 */
F4J_KERNEL void prelu_slope_grad(int n, int out, int rows, int chunks, F4J_GLOBAL const float *dy,
                                 F4J_GLOBAL const float *z, F4J_GLOBAL float *partial, F4J_DROPOUT_PARAMS) {
    f4j_i64 t = F4J_GLOBAL_ID;
    if (t >= (f4j_i64)chunks * out) {
        return;
    }
    const f4j_dropout d = F4J_DROPOUT;
    int c = (int)(t / out);
    int j = (int)(t % out);
    int from = c * rows;
    int to = n - from < rows ? n : from + rows;
    float s = 0.0f;
    for (int i = from; i < to; i++) {
        f4j_i64 e = (f4j_i64)i * out + j;
        s += f4j_slope_term(d.scale, dy[e], z[e], f4j_keep_element(d.base + (f4j_u64)e, d));
    }
    partial[t] = s;
}

/* PyTorch's SGD: g = grad + wd*p; v = momentum*v + g; p -= lr*v. */
F4J_KERNEL void sgd_step(int len, F4J_GLOBAL float *p, F4J_GLOBAL const float *g, F4J_GLOBAL float *v, float lr,
                         float momentum, float wd) {
    f4j_i64 i = F4J_GLOBAL_ID;
    if (i < len) {
        float gi = g[i] + wd * p[i];
        float vi = momentum * v[i] + gi;
        v[i] = vi;
        p[i] -= lr * vi;
    }
}

/* PyTorch's Adam with L2 weight decay; c1, c2 are the bias corrections 1 - beta^step. */
F4J_KERNEL void adam_step(int len, F4J_GLOBAL float *p, F4J_GLOBAL const float *g, F4J_GLOBAL float *m,
                          F4J_GLOBAL float *v, float lr, float beta1, float beta2, float eps, float wd, float c1,
                          float c2) {
    f4j_i64 i = F4J_GLOBAL_ID;
    if (i < len) {
        float gi = g[i] + wd * p[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= lr * (mi / c1) / (F4J_SQRT(vi / c2) + eps);
    }
}

/*
 * Batch normalisation beside the fused layer (DESIGN.md, "Batch normalisation"): y = dropout(act(u)) with
 * u = gamma * (z - mean) / sqrt(var + eps) + beta over each feature j of z [n, out]. stats is [2, out]: the batch
 * means, then the biased variances.
 */

/* x_hat = (z - mean) / sqrt(var + eps), the normalised value of one element of feature j. */
F4J_FN float f4j_bn_xhat(float z, F4J_GLOBAL const float *stats, int out, int j, float eps) {
    return (z - stats[j]) * (1.0f / F4J_SQRT(stats[out + j] + eps));
}

/*
 * Per feature j (one work-item each, rows summed in order, so the sums are the same bits every run): the mean and
 * the biased variance of column j of z, from sums shifted by the column's first value z[0][j], which lies inside
 * the batch's spread, so the variance does not cancel as E[z^2] - E[z]^2 does when the mean is large.
 */
F4J_KERNEL void bn_stats(int n, int out, F4J_GLOBAL const float *z, F4J_GLOBAL float *stats) {
    f4j_i64 j = F4J_GLOBAL_ID;
    if (j >= out) {
        return;
    }
    float c = z[j];
    float s1 = 0.0f, s2 = 0.0f;
    for (int i = 0; i < n; i++) {
        float d = z[(f4j_i64)i * out + j] - c;
        s1 += d;
        s2 += d * d;
    }
    float m1 = s1 / n;
    float var = s2 / n - m1 * m1;
    stats[j] = c + m1;
    stats[out + j] = var > 0.0f ? var : 0.0f;
}

/*
 * The statistics from the GEMM's per-tile sums (the statistics epilogue of fused_linear.cl and .cu): tile t covers
 * rows [t * rows, min(n, (t + 1) * rows)) and part[(2t) * out + j], part[(2t + 1) * out + j] hold S1 = sum (z - c_t)
 * and S2 = sum (z - c_t)^2 over them, c_t = z[t * rows][j] its first row. One work-item per feature merges the tiles
 * in order of t with Chan et al.'s pairwise formula, every tile's mean taken relative to c = z[0][j] (as bn_stats
 * shifts), so only numbers of the spread's size are added whatever the mean:
 *   mean_t = (c_t - c) + S1 / n_t,   M2_t = S2 - S1 * S1 / n_t,
 *   d = mean_t - mean,   mean += d * n_t / (n + n_t),   M2 += M2_t + d * d * n * n_t / (n + n_t),   n += n_t.
 */
F4J_KERNEL void bn_stats_merge(int n, int out, int rows, F4J_GLOBAL const float *z, F4J_GLOBAL const float *part,
                               F4J_GLOBAL float *stats) {
    f4j_i64 j = F4J_GLOBAL_ID;
    if (j >= out) {
        return;
    }
    float c = z[j];
    float count = 0.0f, mean = 0.0f, m2 = 0.0f;
    int tiles = (n + rows - 1) / rows;
    for (int t = 0; t < tiles; t++) {
        int r0 = t * rows;
        float nt = (float)(n - r0 < rows ? n - r0 : rows);
        float s1 = part[(f4j_i64)(2 * t) * out + j];
        float s2 = part[(f4j_i64)(2 * t + 1) * out + j];
        float m1 = s1 / nt;
        float meanT = (z[(f4j_i64)r0 * out + j] - c) + m1;
        float m2T = s2 - s1 * m1;
        float total = count + nt;
        float d = meanT - mean;
        mean += d * (nt / total);
        m2 += m2T + d * d * (count * nt / total);
        count = total;
    }
    float var = m2 / count;
    stats[j] = c + mean;
    stats[out + j] = var > 0.0f ? var : 0.0f;
}

/* Pass 2 of training: normalise, scale and shift, activate and drop every element of z [n, out] into y. */
F4J_KERNEL void bn_forward(int n, int out, F4J_GLOBAL const float *z, F4J_GLOBAL const float *stats,
                           F4J_GLOBAL const float *gamma, F4J_GLOBAL const float *beta, float eps,
                           F4J_ACTIVATION_PARAMS, F4J_GLOBAL float *y, F4J_DROPOUT_PARAMS) {
    const f4j_dropout d = F4J_DROPOUT;
    f4j_i64 e = F4J_GLOBAL_ID;
    if (e >= (f4j_i64)n * out) {
        return;
    }
    int j = (int)(e % out);
    float u = gamma[j] * f4j_bn_xhat(z[e], stats, out, j, eps) + beta[j];
    y[e] = f4j_epilogue(act, alpha, u, f4j_keep_element(d.base + (f4j_u64)e, d), d.scale);
}

/* du = dL/du of one element: the fused layer's dz of dropout(act(u)), u recomputed from z and the statistics. */
F4J_FN float f4j_bn_du(f4j_i64 e, int j, int out, float dy, float y, float xhat, F4J_GLOBAL const float *gamma,
                       F4J_GLOBAL const float *beta, int act, float alpha, f4j_dropout d) {
    int kept = f4j_dz_needs_mask(act) ? f4j_keep_element(d.base + (f4j_u64)e, d) : 1;
    return f4j_dz(act, alpha, d.scale, dy, y, gamma[j] * xhat + beta[j], kept);
}

/* Backward, per feature j (rows in order, as bn_stats): dbeta = sum_i du, dgamma = sum_i du * x_hat. */
F4J_KERNEL void bn_backward_sums(int n, int out, F4J_GLOBAL const float *dy, F4J_GLOBAL const float *y,
                                 F4J_GLOBAL const float *z, F4J_GLOBAL const float *stats,
                                 F4J_GLOBAL const float *gamma, F4J_GLOBAL const float *beta, float eps,
                                 F4J_ACTIVATION_PARAMS, F4J_GLOBAL float *dgamma, F4J_GLOBAL float *dbeta,
                                 F4J_DROPOUT_PARAMS) {
    const f4j_dropout d = F4J_DROPOUT;
    f4j_i64 j = F4J_GLOBAL_ID;
    if (j >= out) {
        return;
    }
    float sb = 0.0f, sg = 0.0f;
    for (int i = 0; i < n; i++) {
        f4j_i64 e = (f4j_i64)i * out + j;
        float xhat = f4j_bn_xhat(z[e], stats, out, (int)j, eps);
        float du = f4j_bn_du(e, (int)j, out, dy[e], y[e], xhat, gamma, beta, act, alpha, d);
        sb += du;
        sg += du * xhat;
    }
    dgamma[j] = sg;
    dbeta[j] = sb;
}

/* Backward through the normalisation: dz = gamma / sqrt(var + eps) / n * (n * du - dbeta - x_hat * dgamma). */
F4J_KERNEL void bn_backward_dz(int n, int out, F4J_GLOBAL const float *dy, F4J_GLOBAL const float *y,
                               F4J_GLOBAL const float *z, F4J_GLOBAL const float *stats,
                               F4J_GLOBAL const float *gamma, F4J_GLOBAL const float *beta, float eps,
                               F4J_ACTIVATION_PARAMS, F4J_GLOBAL const float *dgamma, F4J_GLOBAL const float *dbeta,
                               F4J_GLOBAL float *dz, F4J_DROPOUT_PARAMS) {
    const f4j_dropout d = F4J_DROPOUT;
    f4j_i64 e = F4J_GLOBAL_ID;
    if (e >= (f4j_i64)n * out) {
        return;
    }
    int j = (int)(e % out);
    float xhat = f4j_bn_xhat(z[e], stats, out, j, eps);
    float du = f4j_bn_du(e, j, out, dy[e], y[e], xhat, gamma, beta, act, alpha, d);
    float k = gamma[j] * (1.0f / F4J_SQRT(stats[out + j] + eps)) / n;
    dz[e] = k * (n * du - dbeta[j] - xhat * dgamma[j]);
}

#endif /* FUSE4J_ELEMENTWISE_H */
