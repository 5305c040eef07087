/*
 * Fuse4J OpenCL: the kernels outside the GEMM (dropout mask, softmax cross-entropy, optimiser steps). The host
 * prepends fuse4j_common.h and defines RED, the work-group size of the one-group reduction (a power of two).
 */
#ifndef RED
#error "RED must be defined by the host"
#endif

/*
 * The mask as 1f / 0f: m[i] is mask element element_base + i, for i < total. One work-item per Philox block of
 * the mask elements covered, so a base that is not a multiple of 4 shares its first block with the elements before.
 */
__kernel void dropout_mask(long total, __global float *m, F4J_DROPOUT_PARAMS) {
    const f4j_dropout d = F4J_DROPOUT;
    ulong q = (d.base >> 2) + get_global_id(0);
    ulong end = d.base + (ulong)total;
    if ((q << 2) >= end) {
        return;
    }
    uint4 blk = d.training ? f4j_mask_block(q, d.s0, d.s1, d.o0, d.o1) : (uint4)(0u);
    for (int l = 0; l < 4; l++) {
        ulong e = (q << 2) + l;
        if (e >= d.base && e < end) {
            m[e - d.base] = (!d.training || f4j_keep_word(f4j_word(blk, l), d.threshold)) ? 1.0f : 0.0f;
        }
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
