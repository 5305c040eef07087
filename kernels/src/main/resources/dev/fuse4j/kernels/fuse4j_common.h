/*
 * Fuse4J device code shared by OpenCL C and CUDA C: the dialect macros, Philox4x32-10, the dropout keep test of
 * DESIGN.md and the fused epilogue (activation, mask, scale) with its derivative. The OpenCL backend (tested on
 * PoCL in CI) and the CUDA backend compile this same text, so the mask code CI checks is the mask code the GPU
 * runs; elementwise.h writes its kernels once on these macros.
 *
 * Every kernel that draws a mask takes the dropout words of its call as its last parameters, F4J_DROPOUT_PARAMS,
 * in the order the host packs them (dev.fuse4j.kernels.DropoutWords):
 *   scale         1f / (1f - p) in training, 1 in eval, 0 when p = 1;
 *   training      0 in eval: no Philox work at all;
 *   threshold     floor(p * 2^32); 0 keeps everything, 2^32 (p = 1) keeps nothing;
 *   seed, offset  the Philox key and the counter's high half;
 *   element_base  the flat index of the call's first output element in a larger batch (0 for a whole batch):
 *                 element (i, j) of an [n x out] output is element g = element_base + i * out + j;
 *   mask_period   variational dropout's period sequences * out (0 for none): g draws as g mod mask_period;
 *   mask_group    channel dropout's features per channel (1 for none): the index is then divided by it.
 * With mask_period 0 and mask_group 1 element g draws mask index g (f4j_mask_index), and the kernels take their
 * block-at-a-time paths; otherwise each element draws its own index through f4j_keep_element.
 * act: 0 relu, 1 leaky relu (slope alpha), 2 gelu (tanh form), 3 identity, 4 elu (alpha), 5 prelu (slope[j] of
 * column j): Activation.Kind ordinals. Kernels that apply or differentiate the activation take F4J_ACTIVATION_PARAMS
 * in that order (dev.fuse4j.kernels.Launch#activation packs them); slope is null unless act is prelu.
 *
 * The GEMM kernels also take DropConnect's weight-mask words, F4J_WEIGHT_MASK_PARAMS, right after the dropout words
 * (dev.fuse4j.kernels.Launch#weightMask): wmask (0: no weight mask, the weights as they are), wscale, wthreshold,
 * wseed, woffset. Weight element k = o * in + c draws word k & 3 of the block at counter
 * (lo32(k >> 2), hi32(k >> 2) | F4J_WEIGHT_STREAM, lo32(woffset), hi32(woffset)), a stream no output mask reaches;
 * a call with DropConnect passes the output dropout words as eval.
 */
#ifndef FUSE4J_COMMON_H
#define FUSE4J_COMMON_H

/*
 * The dialects. A kernel's work-items (threads) are numbered in one dimension by F4J_GLOBAL_ID within the launch
 * and F4J_LOCAL_ID within their work-group (block); F4J_BARRIER synchronises a work-group over local memory.
 */
#ifdef __OPENCL_VERSION__
  #define F4J_FN inline
  #define F4J_KERNEL __kernel
  #define F4J_GLOBAL __global
  #define F4J_LOCAL __local
  typedef uint f4j_u32;
  typedef ulong f4j_u64;
  typedef long f4j_i64;
  #define F4J_GLOBAL_ID ((f4j_i64)get_global_id(0))
  #define F4J_LOCAL_ID ((int)get_local_id(0))
  #define F4J_BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
  #define F4J_EXP(x) exp(x)
  #define F4J_EXPM1(x) expm1(x)
  #define F4J_LOG(x) log(x)
  #define F4J_SQRT(x) sqrt(x)
  #define F4J_MULHI(a, b) mul_hi((uint)(a), (uint)(b))
  #define F4J_TANH(x) f4j_tanh_exp(x)
  #define F4J_UINT4(a, b, c, d) ((uint4)((a), (b), (c), (d)))
#else /* CUDA C */
  #define F4J_FN __device__ __forceinline__
  #define F4J_KERNEL extern "C" __global__
  #define F4J_GLOBAL
  #define F4J_LOCAL __shared__
  typedef unsigned int f4j_u32;
  typedef unsigned long long f4j_u64;
  typedef long long f4j_i64;
  #define F4J_GLOBAL_ID ((f4j_i64)blockIdx.x * blockDim.x + threadIdx.x)
  #define F4J_LOCAL_ID ((int)threadIdx.x)
  #define F4J_BARRIER() __syncthreads()
  #define F4J_EXP(x) expf(x)
  #define F4J_EXPM1(x) expm1f(x)
  #define F4J_LOG(x) logf(x)
  #define F4J_SQRT(x) sqrtf(x)
  #define F4J_MULHI(a, b) __umulhi((unsigned int)(a), (unsigned int)(b))
  #define F4J_TANH(x) tanhf(x)
  #define F4J_UINT4(a, b, c, d) make_uint4((a), (b), (c), (d))
#endif

#ifdef __OPENCL_VERSION__
/*
 * tanh through exp. With PoCL's own tanh the GELU backward missed the contract bound about twofold (dx off by
 * 1e-4 where 5e-5 was allowed); this form meets it, and costs one exp and one division.
 */
inline float f4j_tanh_exp(float x) {
    float ax = fabs(x);
    float t = ax > 9.0f ? 1.0f : 1.0f - 2.0f / (exp(2.0f * ax) + 1.0f);
    return copysign(t, x);
}
#endif

/* Random123's Philox4x32 constants (Salmon et al., SC'11). */
#define F4J_PHILOX_M0 0xD2511F53u
#define F4J_PHILOX_M1 0xCD9E8D57u
#define F4J_PHILOX_W0 0x9E3779B9u
#define F4J_PHILOX_W1 0xBB67AE85u

#define F4J_RELU 0
#define F4J_LEAKY_RELU 1
#define F4J_GELU 2
#define F4J_IDENTITY 3
#define F4J_ELU 4
#define F4J_PRELU 5

#define F4J_ACTIVATION_PARAMS int act, float alpha, F4J_GLOBAL const float *slope

/* Ten rounds of Philox4x32 on counter c under key (k0, k1). */
F4J_FN uint4 f4j_philox4x32_10(uint4 c, f4j_u32 k0, f4j_u32 k1) {
    for (int r = 0; r < 10; r++) {
        f4j_u32 hi0 = F4J_MULHI(F4J_PHILOX_M0, c.x);
        f4j_u32 lo0 = F4J_PHILOX_M0 * c.x;
        f4j_u32 hi1 = F4J_MULHI(F4J_PHILOX_M1, c.z);
        f4j_u32 lo1 = F4J_PHILOX_M1 * c.z;
        c = F4J_UINT4(hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0);
        k0 += F4J_PHILOX_W0;
        k1 += F4J_PHILOX_W1;
    }
    return c;
}

#define F4J_DROPOUT_PARAMS float scale, int training, f4j_u64 threshold, f4j_u64 seed, f4j_u64 offset, \
                           f4j_u64 element_base, f4j_u64 mask_period, f4j_u64 mask_group
/* The dropout words of F4J_DROPOUT_PARAMS in one value, as kernels pass them on: F4J_DROPOUT builds it. */
typedef struct {
    float scale;
    int training;
    f4j_u64 threshold;
    f4j_u32 s0, s1, o0, o1;
    f4j_u64 base;
    f4j_u64 period;
    f4j_u64 group;
    /* 1 when period or group maps elements to shared mask indices (channel or variational dropout). */
    int mapped;
} f4j_dropout;

F4J_FN f4j_dropout f4j_dropout_of(float scale, int training, f4j_u64 threshold, f4j_u64 seed, f4j_u64 offset,
                                  f4j_u64 element_base, f4j_u64 mask_period, f4j_u64 mask_group) {
    f4j_dropout d;
    d.scale = scale;
    d.training = training;
    d.threshold = threshold;
    d.s0 = (f4j_u32)seed;
    d.s1 = (f4j_u32)(seed >> 32);
    d.o0 = (f4j_u32)offset;
    d.o1 = (f4j_u32)(offset >> 32);
    d.base = element_base;
    d.period = mask_period;
    d.group = mask_group;
    d.mapped = mask_period != 0 || mask_group != 1;
    return d;
}
#define F4J_DROPOUT f4j_dropout_of(scale, training, threshold, seed, offset, element_base, mask_period, mask_group)

/* The four Philox words that decide mask elements 4q .. 4q+3 (DESIGN.md counter layout). */
F4J_FN uint4 f4j_mask_block(f4j_u64 q, f4j_u32 seed_lo, f4j_u32 seed_hi, f4j_u32 off_lo, f4j_u32 off_hi) {
    return f4j_philox4x32_10(F4J_UINT4((f4j_u32)q, (f4j_u32)(q >> 32), off_lo, off_hi), seed_lo, seed_hi);
}

/* Word e & 3 of a block. */
F4J_FN f4j_u32 f4j_word(uint4 block, int lane) {
    return lane == 0 ? block.x : lane == 1 ? block.y : lane == 2 ? block.z : block.w;
}

/* Whether an element whose Philox word is `word` is kept. */
F4J_FN int f4j_keep_word(f4j_u32 word, f4j_u64 threshold) {
    return (f4j_u64)word >= threshold;
}

/* DropConnect's weight mask: its stream bit in the counter's second word, and its words in one value. */
#define F4J_WEIGHT_STREAM 0x80000000u
#define F4J_WEIGHT_MASK_PARAMS int wmask, float wscale, f4j_u64 wthreshold, f4j_u64 wseed, f4j_u64 woffset
typedef struct {
    int on;
    float scale;
    f4j_u64 threshold;
    f4j_u32 s0, s1, o0, o1;
} f4j_weight_mask;

F4J_FN f4j_weight_mask f4j_weight_mask_of(int on, float scale, f4j_u64 threshold, f4j_u64 seed, f4j_u64 offset) {
    f4j_weight_mask m;
    m.on = on;
    m.scale = scale;
    m.threshold = threshold;
    m.s0 = (f4j_u32)seed;
    m.s1 = (f4j_u32)(seed >> 32);
    m.o0 = (f4j_u32)offset;
    m.o1 = (f4j_u32)(offset >> 32);
    return m;
}
#define F4J_WEIGHT_MASK f4j_weight_mask_of(wmask, wscale, wthreshold, wseed, woffset)

/* The four Philox words that decide weight elements 4q .. 4q+3 (the weight stream's counter layout). */
F4J_FN uint4 f4j_weight_block(f4j_u64 q, f4j_weight_mask m) {
    return f4j_philox4x32_10(F4J_UINT4((f4j_u32)q, (f4j_u32)(q >> 32) | F4J_WEIGHT_STREAM, m.o0, m.o1), m.s0, m.s1);
}

/* Whether mask element m (element base already added) is kept: one Philox block per call. */
F4J_FN int f4j_keep(f4j_u64 m, f4j_dropout d) {
    if (!d.training) {
        return 1;
    }
    uint4 b = f4j_mask_block(m >> 2, d.s0, d.s1, d.o0, d.o1);
    return f4j_keep_word(f4j_word(b, (int)(m & 3)), d.threshold);
}

/* The mask index element g (element base included) draws: g mod period when variational, then / group. */
F4J_FN f4j_u64 f4j_mask_index(f4j_u64 g, f4j_dropout d) {
    f4j_u64 m = d.period != 0 ? g % d.period : g;
    return d.group != 1 ? m / d.group : m;
}

/* Whether element g (element base included) is kept, through its mask index: one Philox block per call. */
F4J_FN int f4j_keep_element(f4j_u64 g, f4j_dropout d) {
    return f4j_keep(f4j_mask_index(g, d), d);
}

#define F4J_GELU_C 0.7978845608028654f /* sqrt(2 / pi) */
#define F4J_GELU_A 0.044715f

/*
 * NaN propagates through every activation, as in PyTorch: relu(NaN) = NaN, relu(+Inf) = +Inf, relu(-Inf) = 0;
 * elu(NaN) = NaN (NaN fails z > 0, and expm1(NaN) is NaN), elu(+Inf) = +Inf, elu(-Inf) = -alpha.
 */
F4J_FN float f4j_activate(int act, float alpha, float z) {
    if (act == F4J_RELU) {
        return z > 0.0f || z != z ? z : 0.0f;
    }
    if (act == F4J_LEAKY_RELU) {
        return z > 0.0f ? z : alpha * z;
    }
    if (act == F4J_GELU) {
        return 0.5f * z * (1.0f + F4J_TANH(F4J_GELU_C * (z + F4J_GELU_A * z * z * z)));
    }
    if (act == F4J_ELU) {
        return z > 0.0f ? z : alpha * F4J_EXPM1(z);
    }
    if (act == F4J_PRELU) {
        return z > 0.0f ? z : alpha * z;
    }
    return z;
}

/* The alpha the activation of column j takes: PReLU's slope[j], the one alpha of the call for the others. */
F4J_FN float f4j_alpha_of(int act, float alpha, F4J_GLOBAL const float *slope, f4j_i64 j) {
    return act == F4J_PRELU ? slope[j] : alpha;
}

F4J_FN float f4j_gelu_grad(float z) {
    float t = F4J_TANH(F4J_GELU_C * (z + F4J_GELU_A * z * z * z));
    float du = F4J_GELU_C * (1.0f + 3.0f * F4J_GELU_A * z * z);
    return 0.5f * (1.0f + t) + 0.5f * z * (1.0f - t * t) * du;
}

/* The fused epilogue of one output element: y = kept ? act(z) * scale : 0. */
F4J_FN float f4j_epilogue(int act, float alpha, float z, int kept, float scale) {
    return kept ? f4j_activate(act, alpha, z) * scale : 0.0f;
}

/*
 * dz of one element, with PyTorch's tests at the kinks. RELU reads mask and side off y (no Philox work) as
 * threshold_backward: y <= 0 gives 0, so a NaN y passes the gradient. The others use `kept` (the regenerated mask):
 * LEAKY_RELU its side from y > 0 (a NaN takes the slope alpha, as leaky_relu_backward), GELU and ELU the
 * pre-activation z; ELU tests z <= 0 as elu_backward does, so a NaN z passes the gradient; PRELU (alpha: the
 * column's slope, which may be negative, so y's sign cannot tell the side) tests z > 0 as prelu_backward does, so a
 * NaN z takes the slope.
 */
F4J_FN float f4j_dz(int act, float alpha, float scale, float dy, float y, float z, int kept) {
    if (act == F4J_RELU) {
        return y <= 0.0f ? 0.0f : dy * scale;
    }
    if (act == F4J_LEAKY_RELU) {
        return kept ? (y > 0.0f ? dy * scale : dy * scale * alpha) : 0.0f;
    }
    if (act == F4J_GELU) {
        return kept ? dy * scale * f4j_gelu_grad(z) : 0.0f;
    }
    if (act == F4J_ELU) {
        return kept ? (z <= 0.0f ? dy * scale * (alpha * F4J_EXP(z)) : dy * scale) : 0.0f;
    }
    if (act == F4J_PRELU) {
        return kept ? (z > 0.0f ? dy * scale : dy * scale * alpha) : 0.0f;
    }
    return kept ? dy * scale : 0.0f;
}

/*
 * One element's term of PReLU's slope gradient: dy * scale * z where kept and z > 0 fails (prelu_backward's
 * input > 0 ? 0 : input * grad, so a NaN z gives NaN), 0 where dropped.
 */
F4J_FN float f4j_slope_term(float scale, float dy, float z, int kept) {
    return kept && !(z > 0.0f) ? dy * scale * z : 0.0f;
}

/* Whether backward of this activation needs the regenerated mask (ReLU reads it off y). */
F4J_FN int f4j_dz_needs_mask(int act) {
    return act != F4J_RELU;
}

/* Whether backward of this activation reads the pre-activation z kept from forward. */
F4J_FN int f4j_dz_needs_z(int act) {
    return act == F4J_GELU || act == F4J_ELU || act == F4J_PRELU;
}

#endif /* FUSE4J_COMMON_H */
