/*
 * Fuse4J's kernels outside the GEMM, written once for OpenCL C and CUDA C on the dialect macros of
 * fuse4j_common.h: the dropout mask, softmax cross-entropy and its two-number sum, the sum of split-K slices and
 * the optimiser steps. The OpenCL backend builds this file as a program (its host defines RED); fuse4j.cu
 * compiles it into the PTX. Every kernel is one-dimensional, launched in groups the host chooses
 * (dev.fuse4j.kernels.ElementwiseKernels launches them for both backends).
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
 */
F4J_KERNEL void dropout_mask(f4j_i64 total, F4J_GLOBAL float *m, F4J_DROPOUT_PARAMS) {
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

#endif /* FUSE4J_ELEMENTWISE_H */
