/*
 * Runs fuse4j.cu's kernels on the host (through cuda_host_shim.h) against a float64 reference of DESIGN.md's
 * formulas, on shapes that break naive tiling: sizes of 1, odd sizes, one past a tile, widths not divisible by 4
 * (the scalar load, store and two-Philox-block paths), K split across slices. The mask and dz it expects are its
 * own, not the header's (a wrong counter word or slope in fuse4j_common.h must fail here). Exit status 0 when all
 * pass; every failure is printed with its case and element. Built and run by CudaKernelsOnHostTest.
 */
#include "cuda_host_shim.h"

#include "fuse4j.cu"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

int failures = 0;
int checks = 0;

/* Runs kernel() for every block of `grid`, with `threads` host threads standing for the block's CUDA threads. */
void launch(dim3 grid, unsigned int threads, const std::function<void()> &kernel) {
    gridDim = grid;
    blockDim = dim3{threads, 1, 1};
    std::barrier<> bar((std::ptrdiff_t)threads);
    shim_block_barrier = &bar;
    std::vector<std::thread> pool;
    for (unsigned int t = 0; t < threads; t++) {
        pool.emplace_back([&, t] {
            threadIdx = dim3{t, 0, 0};
            for (unsigned int z = 0; z < grid.z; z++) {
                for (unsigned int y = 0; y < grid.y; y++) {
                    for (unsigned int x = 0; x < grid.x; x++) {
                        blockIdx = dim3{x, y, z};
                        kernel();
                        bar.arrive_and_wait(); /* the next block reuses the shared statics */
                    }
                }
            }
        });
    }
    for (auto &th : pool) {
        th.join();
    }
}

/* Device-like memory: 256-byte aligned, as cuMemAlloc returns it, so the kernels' float4 accesses are aligned. */
struct Buf {
    float *p;
    size_t n;
    explicit Buf(size_t count) : n(count) {
        size_t bytes = ((std::max<size_t>(count, 1) * sizeof(float)) + 255) / 256 * 256;
        p = static_cast<float *>(std::aligned_alloc(256, bytes));
        std::fill(p, p + bytes / sizeof(float), -12345.0f); /* poison: unwritten outputs show up */
    }
    ~Buf() { std::free(p); }
    Buf(const Buf &) = delete;
    Buf &operator=(const Buf &) = delete;
    float &operator[](size_t i) { return p[i]; }
};

void fill(Buf &b, std::mt19937 &rng, float scale) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (size_t i = 0; i < b.n; i++) {
        b[i] = u(rng) * scale;
    }
}

void expect(bool ok, const std::string &what) {
    checks++;
    if (!ok) {
        if (failures < 40) {
            std::printf("FAIL %s\n", what.c_str());
        }
        failures++;
    }
}

/*
 * |got - ref| within the contract's bound 2*K*2^-24*magnitude, plus room for the activation's own rounding; a NaN
 * or infinite reference must come out as the same NaN or infinity, and a finite one whose terms were not all
 * finite (relu(-Inf) = 0, a dropped element) exactly.
 */
void near(double got, double ref, int k, double magnitude, const std::string &what) {
    double bound = 2.0 * std::max(k, 1) * std::ldexp(1.0, -24) * magnitude + 4e-7 * std::fabs(ref) + 1e-30;
    if (!std::isfinite(ref) || !std::isfinite(bound)) {
        expect(std::isnan(ref) ? std::isnan(got) : got == ref, what + ": got " + std::to_string(got) + ", want "
                + std::to_string(ref));
        return;
    }
    expect(std::fabs(got - ref) <= bound, what + ": got " + std::to_string(got) + ", want " + std::to_string(ref)
            + " (bound " + std::to_string(bound) + ")");
}

/* |got - want| within an explicit bound; a NaN fails. */
void within(double got, double want, double bound, const std::string &what) {
    expect(std::fabs(got - want) <= bound, what + ": got " + std::to_string(got) + ", want " + std::to_string(want)
            + " (bound " + std::to_string(bound) + ")");
}

/* Philox4x32-10 on counter c under key (k0, k1), from Random123's published round constants and key increments. */
void philox_reference(uint32_t c[4], uint32_t k0, uint32_t k1) {
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = uint64_t(0xD2511F53u) * c[0];
        uint64_t p1 = uint64_t(0xCD9E8D57u) * c[2];
        uint32_t next[4] = {uint32_t(p1 >> 32) ^ c[1] ^ k0, uint32_t(p1), uint32_t(p0 >> 32) ^ c[3] ^ k1, uint32_t(p0)};
        std::copy(next, next + 4, c);
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

/*
 * DESIGN.md's keep(e): word e mod 4 of Philox on counter (lo32(e/4), hi32(e/4), lo32(offset), hi32(offset)) under
 * key (lo32(seed), hi32(seed)), kept when at least floor(p * 2^32).
 */
bool keep_reference(unsigned long long e, unsigned long long seed, unsigned long long offset,
                    unsigned long long threshold) {
    uint32_t c[4] = {uint32_t(e >> 2), uint32_t(e >> 34), uint32_t(offset), uint32_t(offset >> 32)};
    philox_reference(c, uint32_t(seed), uint32_t(seed >> 32));
    return c[e & 3] >= threshold;
}

/*
 * DropConnect's weight mask, DESIGN.md's keepWeight(k): word k mod 4 of Philox on counter
 * (lo32(k/4), hi32(k/4) | 2^31, lo32(offset), hi32(offset)) under key (lo32(seed), hi32(seed)).
 */
bool keep_weight_reference(unsigned long long k, unsigned long long seed, unsigned long long offset,
                           unsigned long long threshold) {
    uint32_t c[4] = {uint32_t(k >> 2), uint32_t(k >> 34) | 0x80000000u, uint32_t(offset), uint32_t(offset >> 32)};
    philox_reference(c, uint32_t(seed), uint32_t(seed >> 32));
    return c[k & 3] >= threshold;
}

double gelu_grad_reference(double z) {
    double t = std::tanh(0.7978845608028654 * (z + 0.044715 * z * z * z));
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * 0.7978845608028654 * (1.0 + 3 * 0.044715 * z * z);
}

/* ELU's derivative on the side z <= 0, alpha * e^z; the side z > 0 (and a NaN z, as PyTorch) has slope 1. */
double elu_grad_reference(double alpha, double z) {
    return z <= 0 ? alpha * std::exp(z) : 1.0;
}

/*
 * dz of DESIGN.md in double, with PyTorch's tests at the kinks: ReLU reads mask and side off y (y <= 0 gives 0, so a
 * NaN y passes), leaky ReLU takes the mask and its side from y > 0 (a NaN takes alpha), the others the mask.
 */
double dz_reference(int act, double alpha, double s, double dy, double y, double z, bool kept) {
    switch (act) {
    case F4J_RELU: return y <= 0 ? 0.0 : dy * s;
    case F4J_LEAKY_RELU: return kept ? (y > 0 ? dy * s : alpha * dy * s) : 0.0;
    case F4J_GELU: return kept ? dy * s * gelu_grad_reference(z) : 0.0;
    case F4J_ELU: return kept ? dy * s * elu_grad_reference(alpha, z) : 0.0;
    case F4J_PRELU: return kept ? (z > 0 ? dy * s : alpha * dy * s) : 0.0; /* alpha: the column's slope */
    default: return kept ? dy * s : 0.0;
    }
}

struct Drop {
    int training;
    float p;
    unsigned long long seed, offset;
    unsigned long long base = 0; /* element base: the call is a slice of a larger batch */
    int weights = 0;             /* DropConnect: p masks the weights, the outputs are not masked */
    unsigned long long period = 0; /* variational dropout: sequences * out elements, 0 for none */
    unsigned long long group = 1; /* channel dropout: features per channel */
    unsigned long long threshold() const { return training ? (unsigned long long)std::floor((double)p * 4294967296.0) : 0; }
    float scale() const { return !training ? 1.0f : p >= 1.0f ? 0.0f : 1.0f / (1.0f - p); }
    Drop at(unsigned long long elementBase) const {
        return Drop{training, p, seed, offset, elementBase, weights, period, group};
    }
    Drop mapped(unsigned long long maskPeriod, unsigned long long maskGroup) const {
        return Drop{training, p, seed, offset, base, weights, maskPeriod, maskGroup};
    }
    /* What the outputs see: no mask and scale 1 under DropConnect. */
    Drop outputs() const { return weights ? Drop{0, 0.0f, 0, 0} : *this; }
    /* Whether element e of the call (element base not yet added) is kept: DESIGN.md's mask index, then keep. */
    int keep(unsigned long long e) const {
        unsigned long long g = base + e;
        unsigned long long index = (period != 0 ? g % period : g) / group;
        return !training || weights || keep_reference(index, seed, offset, threshold());
    }
    /* Weight element k = o * in + c as the products use it: w * s where DropConnect keeps it, else 0; w without. */
    double weight(unsigned long long k, float w) const {
        return !weights ? w : keep_weight_reference(k, seed, offset, threshold()) ? (double)w * scale() : 0.0;
    }
};

/* The kernels' dropout words then weight-mask words of d, in F4J_DROPOUT_PARAMS, F4J_WEIGHT_MASK_PARAMS order. */
#define DROP_WORDS(d) (d).outputs().scale(), (d).outputs().training, (d).outputs().threshold(), (d).outputs().seed, \
        (d).outputs().offset, (d).outputs().base, (d).outputs().period, (d).outputs().group, (d).weights, (d).weights ? (d).scale() : 0.0f, \
        (d).weights ? (d).threshold() : 0ULL, (d).weights ? (d).seed : 0ULL, (d).weights ? (d).offset : 0ULL

double activate(int act, double alpha, double z) {
    switch (act) {
    case F4J_RELU: return std::isnan(z) ? z : std::max(z, 0.0);
    case F4J_LEAKY_RELU: return z > 0 ? z : alpha * z;
    case F4J_GELU: return 0.5 * z * (1.0 + std::tanh(0.7978845608028654 * (z + 0.044715 * z * z * z)));
    case F4J_ELU: return z > 0 ? z : alpha * std::expm1(z);
    case F4J_PRELU: return z > 0 ? z : alpha * z; /* alpha: the column's slope */
    default: return z;
    }
}

/*
 * The activation codes the checks walk (F4J_RELU .. F4J_PRELU), and the slope or alpha each is checked with;
 * PReLU's slopes are per column (prelu_slopes).
 */
constexpr int ACTIVATIONS = 6;
float alpha_of(int act) {
    return act == F4J_LEAKY_RELU ? 0.1f : act == F4J_ELU ? 0.7f : 0.0f;
}

/* PReLU's slope of column j in these checks: negative, zero, between 0 and 1 and past 1, in turn. */
float prelu_slope(int j) {
    const float pattern[] = {-0.6f, 0.3f, 0.0f, 1.4f, 0.05f, -1.3f, 1.0f};
    return pattern[j % 7];
}

std::string label(int n, int in, int out, int act, const Drop &d, int slices) {
    return std::to_string(n) + "x" + std::to_string(in) + "->" + std::to_string(out) + " act " + std::to_string(act)
            + (d.training ? (d.weights ? " dropconnect p " : " p ") + std::to_string(d.p) : " eval")
            + (slices > 1 ? " slices " + std::to_string(slices) : "")
            + (d.period != 0 || d.group != 1 ? " period " + std::to_string(d.period) + " group " + std::to_string(d.group)
                                              : "");
}

/*
 * Forward then backward of one case; the backward GEMMs with K split into `slices` when > 1. With `nonFinite`,
 * NaN and infinities are planted in x, w, b and dy (n >= 7, in >= 5, out >= 9): they must come out as in float64.
 */
void check_layer(int n, int in, int out, int act, float alpha, const Drop &d, int slices, std::mt19937 &rng,
                 bool nonFinite = false) {
    const std::string name = label(n, in, out, act, d, slices) + (nonFinite ? " non-finite" : "");
    Buf x(size_t(n) * in), w(size_t(out) * in), b(out), y(size_t(n) * out), z(size_t(n) * out), a(out);
    for (int j = 0; j < out; j++) {
        a[j] = prelu_slope(j);
    }
    const float *sl = act == F4J_PRELU ? a.p : nullptr;
    /* The alpha column j's activation takes: PReLU's slope there, the case's alpha for the others. */
    auto alpha_at = [&](size_t j) { return act == F4J_PRELU ? (double)a[j] : (double)alpha; };
    fill(x, rng, 1.0f);
    fill(w, rng, 1.0f / std::sqrt((float)in));
    fill(b, rng, 0.5f);
    if (nonFinite) {
        x[size_t(1) * in + 2] = NAN;
        x[size_t(3) * in] = INFINITY;
        w[size_t(5) * in + 4] = -INFINITY;
        b[7] = -INFINITY;
        b[8] = INFINITY;
    }
    const float s = d.outputs().scale();
    dim3 grid{unsigned((out + BN - 1) / BN), unsigned((n + BM - 1) / BM), 1};
    launch(grid, THREADS, [&] {
        gemm_forward(n, out, in, x.p, w.p, b.p, y.p, z.p, act, alpha, sl, DROP_WORDS(d));
    });
    /* The weights as the products use them, W (.) M * s under DropConnect, formed here in double. */
    std::vector<double> wm(size_t(out) * in);
    for (size_t k = 0; k < wm.size(); k++) {
        wm[k] = d.weight(k, w[k]);
    }
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < out; j++) {
            double zr = b[j], mag = std::fabs(b[j]);
            for (int k = 0; k < in; k++) {
                zr += (double)x[size_t(i) * in + k] * wm[size_t(j) * in + k];
                mag += std::fabs((double)x[size_t(i) * in + k] * wm[size_t(j) * in + k]);
            }
            size_t e = size_t(i) * out + j;
            double yr = d.keep(e) ? activate(act, alpha_at(j), zr) * s : 0.0;
            double slope = act == F4J_GELU ? 1.2
                    : act == F4J_LEAKY_RELU || act == F4J_ELU || act == F4J_PRELU ? std::max(1.0, std::fabs(alpha_at(j)))
                    : 1.0;
            near(z[e], zr, in, mag, name + " z[" + std::to_string(i) + "][" + std::to_string(j) + "]");
            near(y[e], yr, in, mag * slope * std::max(s, 1.0f), name + " y[" + std::to_string(i) + "][" + std::to_string(j) + "]");
        }
    }

    /*
     * Backward from dy against dz in double. The kernels form dz in float32 in one or two roundings, which the sums'
     * bounds cover with K + 2 terms; GELU's float32 derivative is good to about 1e-6 * |dy * s|, carried into the
     * magnitude as 9 * |dy * s| per kept element (2 * 9 * 2^-24 is about 1.07e-6); ELU's alpha * e^z to a few ulps
     * of alpha, carried as 9 * alpha * |dy * s|.
     */
    Buf dy(size_t(n) * out), dx(size_t(n) * in), dw(size_t(out) * in), db(out);
    fill(dy, rng, 1.0f);
    if (nonFinite) {
        dy[0] = NAN;
        dy[size_t(2) * out + 3] = INFINITY;
        dy[size_t(6) * out + 8] = -INFINITY;
    }
    std::vector<double> dz(size_t(n) * out), slack(size_t(n) * out);
    for (size_t e = 0; e < dz.size(); e++) {
        dz[e] = dz_reference(act, alpha_at(e % out), s, dy[e], y[e], z[e], d.keep(e));
        double relative = act == F4J_GELU ? 9.0 : act == F4J_ELU ? 9.0 * alpha : 0.0;
        slack[e] = relative > 0 && d.keep(e) ? relative * std::fabs(dy[e] * s) : 0.0;
    }
    const float *zp = act == F4J_GELU || act == F4J_ELU || act == F4J_PRELU ? z.p : nullptr;
    auto product = [&](void (*kernel)(int, int, int, int, const float *, const float *, const float *, const float *,
                                      float *, int, float, const float *, float, int, unsigned long long,
                                      unsigned long long, unsigned long long, unsigned long long,
                                      unsigned long long, unsigned long long, int, float,
                                      unsigned long long, unsigned long long, unsigned long long),
                       int m, int nn, int k, const float *src, Buf &dst) {
        int chunk = slices > 1 ? ((k + slices - 1) / slices + BK - 1) / BK * BK : k;
        int count = (k + chunk - 1) / chunk;
        Buf partial(size_t(count) * m * nn);
        float *target = count > 1 ? partial.p : dst.p;
        dim3 g{unsigned((nn + BN - 1) / BN), unsigned((m + BM - 1) / BM), unsigned(count)};
        launch(g, THREADS, [&] {
            kernel(m, nn, k, chunk, dy.p, y.p, zp, src, target, act, alpha, sl, DROP_WORDS(d));
        });
        if (count > 1) {
            long long len = (long long)m * nn;
            launch(dim3{unsigned((len + 255) / 256), 1, 1}, 256, [&] { sum_slices(count, len, partial.p, dst.p); });
        }
    };
    product(gemm_dx, n, in, out, w.p, dx);
    product(gemm_dw, out, in, n, x.p, dw);
    int rows = 7;
    int chunks = (n + rows - 1) / rows;
    Buf partial(size_t(chunks) * out);
    launch(dim3{unsigned((out + 255) / 256), unsigned(chunks), 1}, 256, [&] {
        const Drop o = d.outputs();
        bias_grad(n, out, rows, dy.p, y.p, zp, partial.p, act, alpha, sl, s, o.training, o.threshold(), o.seed,
                  o.offset, o.base, o.period, o.group);
    });
    launch(dim3{unsigned((out + 255) / 256), 1, 1}, 256, [&] { sum_slices(chunks, out, partial.p, db.p); });
    if (act == F4J_PRELU) {
        /*
         * The slope gradient in chunks of 7 rows, then the chunks added: da[j] = sum of dy * s * z over the kept
         * elements of column j where z > 0 fails (prelu_backward's test, so a NaN z gives NaN).
         */
        Buf da(out), slopePartial(size_t(chunks) * out);
        long long items = (long long)chunks * out;
        launch(dim3{unsigned((items + 255) / 256), 1, 1}, 256, [&] {
            const Drop o = d.outputs();
            prelu_slope_grad(n, out, rows, chunks, dy.p, z.p, slopePartial.p, s, o.training, o.threshold(), o.seed,
                             o.offset, o.base, o.period, o.group);
        });
        launch(dim3{unsigned((out + 255) / 256), 1, 1}, 256, [&] { sum_slices(chunks, out, slopePartial.p, da.p); });
        for (int j = 0; j < out; j++) {
            double r = 0, mag = 0;
            for (int i = 0; i < n; i++) {
                size_t e = size_t(i) * out + j;
                if (d.keep(e) && !(z[e] > 0)) {
                    double t = (double)dy[e] * s * z[e];
                    r += t;
                    mag += std::fabs(t);
                }
            }
            near(da[j], r, n + chunks, mag, name + " da[" + std::to_string(j) + "]");
        }
    }

    for (int i = 0; i < n; i++) {
        for (int k = 0; k < in; k++) {
            double r = 0, mag = 0;
            for (int j = 0; j < out; j++) {
                double t = dz[size_t(i) * out + j] * wm[size_t(j) * in + k];
                r += t;
                mag += std::fabs(t) + slack[size_t(i) * out + j] * std::fabs(wm[size_t(j) * in + k]);
            }
            near(dx[size_t(i) * in + k], r, out + 2, mag, name + " dx[" + std::to_string(i) + "][" + std::to_string(k) + "]");
        }
    }
    for (int j = 0; j < out; j++) {
        for (int k = 0; k < in; k++) {
            double r = 0, mag = 0;
            for (int i = 0; i < n; i++) {
                double t = dz[size_t(i) * out + j] * x[size_t(i) * in + k];
                r += t;
                mag += std::fabs(t) + slack[size_t(i) * out + j] * std::fabs(x[size_t(i) * in + k]);
            }
            /* DropConnect's dw is (dz^T . x) (.) M * s: the weight's own factor, 0 where dropped (exactly). */
            const double f = d.weights ? d.weight(size_t(j) * in + k, 1.0f) : 1.0;
            near(dw[size_t(j) * in + k], f == 0.0 ? 0.0 : r * f, n + 2, f == 0.0 ? 0.0 : mag * std::fabs(f),
                 name + " dw[" + std::to_string(j) + "][" + std::to_string(k) + "]");
        }
        double r = 0, mag = 0;
        for (int i = 0; i < n; i++) {
            r += dz[size_t(i) * out + j];
            mag += std::fabs(dz[size_t(i) * out + j]) + slack[size_t(i) * out + j];
        }
        near(db[j], r, n + 2, mag, name + " db[" + std::to_string(j) + "]");
    }
}

/* Forward without a z output (zout null) writes the same y as forward that stores z. */
void check_forward_without_z(int n, int in, int out, const Drop &d, std::mt19937 &rng) {
    Buf x(size_t(n) * in), w(size_t(out) * in), b(out), y(size_t(n) * out), z(size_t(n) * out), y2(size_t(n) * out);
    fill(x, rng, 1.0f);
    fill(w, rng, 1.0f);
    fill(b, rng, 0.5f);
    dim3 grid{unsigned((out + BN - 1) / BN), unsigned((n + BM - 1) / BM), 1};
    launch(grid, THREADS, [&] {
        gemm_forward(n, out, in, x.p, w.p, b.p, y.p, z.p, F4J_RELU, 0.0f, nullptr, DROP_WORDS(d));
    });
    launch(grid, THREADS, [&] {
        gemm_forward(n, out, in, x.p, w.p, b.p, y2.p, nullptr, F4J_RELU, 0.0f, nullptr, DROP_WORDS(d));
    });
    for (size_t e = 0; e < y.n; e++) {
        expect(y2[e] == y[e], "forward without z at " + std::to_string(e));
    }
}

void check_mask(long long total, const Drop &d) {
    Buf m(total);
    long long blocks = ((long long)(d.base & 3) + total + 3) / 4; /* Philox blocks the elements touch */
    launch(dim3{unsigned((blocks + 255) / 256), 1, 1}, 256, [&] {
        dropout_mask(total, m.p, DROP_WORDS(d));
    });
    const std::string name = std::string(d.weights ? "weight mask" : "mask") + " of " + std::to_string(total)
            + " from " + std::to_string(d.base) + " period " + std::to_string(d.period) + " group "
            + std::to_string(d.group);
    for (long long e = 0; e < total; e++) {
        bool kept = d.weights ? d.weight(e, 1.0f) != 0.0 : d.keep(e);
        expect(m[e] == (kept ? 1.0f : 0.0f), name + " at " + std::to_string(e));
    }
    expect(m[total] == -12345.0f || (total & 3) == 0, name + " wrote past its end");
}

/* dropout_apply: x * scale where the mask keeps, else exactly 0, over the same work-items as dropout_mask. */
void check_dropout_apply(long long total, const Drop &d, std::mt19937 &rng) {
    Buf x(total), out(total);
    fill(x, rng, 1.0f);
    long long blocks = ((long long)(d.base & 3) + total + 3) / 4;
    launch(dim3{unsigned((blocks + 255) / 256), 1, 1}, 256, [&] {
        dropout_apply(total, x.p, out.p, d.scale(), d.training, d.threshold(), d.seed, d.offset, d.base, d.period,
                      d.group);
    });
    const std::string name = "dropout of " + std::to_string(total) + " from " + std::to_string(d.base) + " period "
            + std::to_string(d.period) + " group " + std::to_string(d.group);
    for (long long e = 0; e < total; e++) {
        expect(out[e] == (d.keep(e) ? x[e] * d.scale() : 0.0f), name + " at " + std::to_string(e));
    }
}

void check_philox_known_answers() {
    uint4 a = f4j_philox4x32_10(make_uint4(0, 0, 0, 0), 0, 0);
    expect(a.x == 0x6627e8d5u && a.y == 0xe169c58du && a.z == 0xbc57ac4cu && a.w == 0x9b00dbd8u, "philox zeros");
    uint4 c = f4j_philox4x32_10(make_uint4(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u), 0xa4093822u,
                                0x299f31d0u);
    expect(c.x == 0xd16cfe09u && c.y == 0x94fdccebu && c.z == 0x5001e420u && c.w == 0x24126ea1u, "philox pi");
    /* The check's own Philox, which the masks are judged by, on the same answers. */
    uint32_t zeros[4] = {0, 0, 0, 0};
    philox_reference(zeros, 0, 0);
    expect(zeros[0] == 0x6627e8d5u && zeros[1] == 0xe169c58du && zeros[2] == 0xbc57ac4cu && zeros[3] == 0x9b00dbd8u,
           "reference philox zeros");
    uint32_t pi[4] = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u};
    philox_reference(pi, 0xa4093822u, 0x299f31d0u);
    expect(pi[0] == 0xd16cfe09u && pi[1] == 0x94fdccebu && pi[2] == 0x5001e420u && pi[3] == 0x24126ea1u,
           "reference philox pi");
}

void check_cross_entropy_over(std::mt19937 &rng, int batch) {
    const int n = 37, classes = 11;
    Buf logits(size_t(n) * classes), labels(n), grad(size_t(n) * classes), rowLoss(n), rowCorrect(n), sums(2);
    fill(logits, rng, 3.0f);
    for (int i = 0; i < n; i++) {
        labels[i] = float(i % classes);
    }
    launch(dim3{1, 1, 1}, 256,
           [&] { softmax_xent_rows(n, classes, batch, logits.p, labels.p, grad.p, rowLoss.p, rowCorrect.p); });
    launch(dim3{1, 1, 1}, 256, [&] { sum2(n, rowLoss.p, rowCorrect.p, sums.p); });
    double loss = 0;
    int correct = 0;
    for (int i = 0; i < n; i++) {
        const float *l = logits.p + size_t(i) * classes;
        int arg = int(std::max_element(l, l + classes) - l);
        double mx = l[arg], sum = 0;
        for (int j = 0; j < classes; j++) {
            sum += std::exp(l[j] - mx);
        }
        loss += std::log(sum) - (l[int(labels[i])] - mx);
        correct += arg == int(labels[i]);
        for (int j = 0; j < classes; j++) {
            double g = (std::exp(l[j] - mx) / sum - (j == int(labels[i]) ? 1.0 : 0.0)) / batch;
            expect(std::fabs(grad[size_t(i) * classes + j] - g) <= 1e-6,
                   "cross-entropy gradient at " + std::to_string(i) + " over " + std::to_string(batch));
        }
    }
    expect(std::fabs(sums[0] / n - loss / n) <= 1e-5 * (1 + loss / n), "cross-entropy mean loss");
    expect(int(std::lround(sums[1])) == correct, "cross-entropy correct count");
}

void check_cross_entropy(std::mt19937 &rng) {
    check_cross_entropy_over(rng, 37);
    check_cross_entropy_over(rng, 100); // the 37 rows as a slice of a batch of 100
}

void check_optimisers(std::mt19937 &rng) {
    const int len = 1000;
    Buf p(len), g(len), v(len), m(len), p2(len);
    fill(p, rng, 1.0f);
    fill(g, rng, 1.0f);
    fill(v, rng, 0.1f);
    std::vector<float> p0(p.p, p.p + len), v0(v.p, v.p + len);
    launch(dim3{unsigned((len + 255) / 256), 1, 1}, 256, [&] { sgd_step(len, p.p, g.p, v.p, 0.1f, 0.9f, 0.01f); });
    for (int i = 0; i < len; i++) {
        double gi = g[i] + 0.01 * p0[i], vi = 0.9 * v0[i] + gi;
        expect(std::fabs(v[i] - vi) <= 1e-6 && std::fabs(p[i] - (p0[i] - 0.1 * vi)) <= 1e-6, "sgd at " + std::to_string(i));
    }
    std::fill(m.p, m.p + len, 0.0f);
    std::fill(v.p, v.p + len, 0.0f);
    std::copy(p0.begin(), p0.end(), p2.p);
    float c1 = 1.0f - 0.9f, c2 = 1.0f - 0.999f;
    launch(dim3{unsigned((len + 255) / 256), 1, 1}, 256,
           [&] { adam_step(len, p2.p, g.p, m.p, v.p, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f, c1, c2); });
    for (int i = 0; i < len; i++) {
        double mi = 0.1 * g[i], vi = 0.001 * (double)g[i] * g[i];
        double want = p0[i] - 1e-3 * (mi / c1) / (std::sqrt(vi / c2) + 1e-8);
        expect(std::fabs(p2[i] - want) <= 1e-6, "adam at " + std::to_string(i));
    }
}

/* Column j of z [.., out] over rows [r0, r1), shifted by its first value z[r0][j], in double. */
struct ShiftedSums {
    double c, s1, s1abs, s2;
};
ShiftedSums shifted_sums(Buf &z, int out, int j, int r0, int r1) {
    ShiftedSums s{z[size_t(r0) * out + j], 0, 0, 0};
    for (int i = r0; i < r1; i++) {
        double dev = z[size_t(i) * out + j] - s.c;
        s.s1 += dev;
        s.s1abs += std::fabs(dev);
        s.s2 += dev * dev;
    }
    return s;
}

/*
 * Batch normalisation's kernels (bn_stats, bn_forward, bn_backward_sums, bn_backward_dz) against this check's own
 * double formulas: the statistics (mean, biased variance), y = keep ? act(gamma * x_hat + beta) * s : 0, and
 * PyTorch's BatchNorm1d backward through du = dz_reference(...): dbeta = sum du, dgamma = sum du * x_hat,
 * dz = gamma / sqrt(var + eps) / n * (n * du - dbeta - x_hat * dgamma). The features sit around 50 with a spread of
 * about 1, where unshifted sums of squares would lose the variance.
 */
void check_batch_norm(int n, int out, int act, float alpha, float eps, const Drop &d, std::mt19937 &rng) {
    const std::string name = "batch norm " + std::to_string(n) + "x" + std::to_string(out) + " act "
            + std::to_string(act) + (d.training ? " p " + std::to_string(d.p) : " eval")
            + (d.period != 0 || d.group != 1 ? " period " + std::to_string(d.period) + " group " + std::to_string(d.group)
                                              : "");
    Buf z(size_t(n) * out), gamma(out), beta(out), stats(size_t(2) * out), y(size_t(n) * out), dy(size_t(n) * out);
    Buf dz(size_t(n) * out), dgamma(out), dbeta(out);
    fill(z, rng, 2.0f);
    for (size_t e = 0; e < z.n; e++) {
        z[e] += 50.0f;
    }
    fill(gamma, rng, 0.5f);
    fill(beta, rng, 0.5f);
    for (int j = 0; j < out; j++) {
        gamma[j] += 1.0f;
    }
    fill(dy, rng, 1.0f);
    const float s = d.scale();
    const unsigned long long thr = d.threshold();
    unsigned columns = unsigned((out + 63) / 64), elements = unsigned((size_t(n) * out + 63) / 64);
    launch(dim3{columns, 1, 1}, 64, [&] { bn_stats(n, out, z.p, stats.p); });
    launch(dim3{elements, 1, 1}, 64, [&] {
        bn_forward(n, out, z.p, stats.p, gamma.p, beta.p, eps, act, alpha, nullptr, y.p, s, d.training, thr, d.seed,
                   d.offset, d.base, d.period, d.group);
    });
    launch(dim3{columns, 1, 1}, 64, [&] {
        bn_backward_sums(n, out, dy.p, y.p, z.p, stats.p, gamma.p, beta.p, eps, act, alpha, nullptr, dgamma.p,
                         dbeta.p, s, d.training, thr, d.seed, d.offset, d.base, d.period, d.group);
    });
    launch(dim3{elements, 1, 1}, 64, [&] {
        bn_backward_dz(n, out, dy.p, y.p, z.p, stats.p, gamma.p, beta.p, eps, act, alpha, nullptr, dgamma.p, dbeta.p,
                       dz.p, s, d.training, thr, d.seed, d.offset, d.base, d.period, d.group);
    });
    const double u32 = std::ldexp(1.0, -24);
    double slope = act == F4J_GELU ? 1.2 : act == F4J_LEAKY_RELU || act == F4J_ELU ? std::max(1.0, (double)alpha) : 1.0;
    double curvature = act == F4J_GELU ? 1.0 : act == F4J_ELU ? alpha : 0.0;
    for (int j = 0; j < out; j++) {
        /* Float32 error estimates from first-order rounding analysis of the kernels' shifted sums, times 4. */
        const auto [c, s1, s1abs, s2] = shifted_sums(z, out, j, 0, n);
        double m1 = s1 / n, mean = c + m1, var = std::max(s2 / n - m1 * m1, 0.0);
        double eMean = 4 * u32 * (s1abs + std::fabs(mean));
        double eVar = 4 * ((n + 4) * u32 * s2 / n + 2 * std::fabs(m1) * u32 * s1abs);
        const std::string col = name + " feature " + std::to_string(j);
        within(stats[j], mean, eMean, col + " mean");
        within(stats[size_t(out) + j], var, eVar, col + " variance");
        double inv = 1.0 / std::sqrt(var + eps);
        double eInv = eVar / (2 * (var + eps)) + 3 * u32; /* relative */
        std::vector<double> du(n), xh(n), eXh(n), eDu(n);
        double sb = 0, sg = 0, eSb = 0, eSg = 0, mSb = 0, mSg = 0;
        for (int i = 0; i < n; i++) {
            size_t e = size_t(i) * out + j;
            xh[i] = (z[e] - mean) * inv;
            eXh[i] = 4 * (eMean * inv + std::fabs(xh[i]) * eInv + 2 * u32 * std::fabs(xh[i]));
            double u = gamma[j] * xh[i] + beta[j];
            double eU = std::fabs(gamma[j]) * eXh[i] + 8 * u32 * (std::fabs(gamma[j] * xh[i]) + std::fabs(beta[j]));
            double yr = d.keep(e) ? activate(act, alpha, u) * s : 0.0;
            within(y[e], yr, d.keep(e) ? slope * s * eU + 4e-7 * std::fabs(yr) : 0.0, col + " y[" + std::to_string(i) + "]");
            du[i] = dz_reference(act, alpha, s, dy[e], y[e], u, d.keep(e));
            eDu[i] = d.keep(e) ? std::fabs(dy[e] * s) * (curvature * eU + 1e-6) : 0.0;
            sb += du[i];
            sg += du[i] * xh[i];
            eSb += eDu[i];
            eSg += eDu[i] * std::fabs(xh[i]) + std::fabs(du[i]) * eXh[i];
            mSb += std::fabs(du[i]);
            mSg += std::fabs(du[i] * xh[i]);
        }
        eSb = 4 * (eSb + (n + 1) * u32 * mSb);
        eSg = 4 * (eSg + (n + 2) * u32 * mSg);
        within(dbeta[j], sb, eSb, col + " dbeta");
        within(dgamma[j], sg, eSg, col + " dgamma");
        for (int i = 0; i < n; i++) {
            size_t e = size_t(i) * out + j;
            double a = n * du[i] - sb - xh[i] * sg;
            double aMag = n * std::fabs(du[i]) + std::fabs(sb) + std::fabs(xh[i] * sg);
            double eA = n * eDu[i] + eSb + std::fabs(xh[i]) * eSg + eXh[i] * std::fabs(sg) + 3 * u32 * aMag;
            double k = gamma[j] * inv / n;
            within(dz[e], k * a, 4 * std::fabs(k) * (eA + aMag * (eInv + 3 * u32)), col + " dz[" + std::to_string(i) + "]");
        }
    }
}

/* A float with all its digits, where two floats that differ must print differently. */
std::string exact(float v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", (double)v);
    return text;
}

/*
 * Batch norm's first pass in the GEMM: gemm_forward_stats writes z bit for bit as gemm_forward with the identity
 * and no dropout, and per tile of BM rows and column the sums S1 = sum (z - c_t), S2 = sum (z - c_t)^2 shifted by
 * the tile's first row c_t; bn_stats_merge merges the tiles into the means and biased variances. Checked: z's bits,
 * each tile's sums against float64 of that tile's rows, the statistics against float64 within the bound
 * check_batch_norm uses (BatchNormReference's, from sums shifted by z[0][j]), with `offset` added to the bias (a
 * mean of 1000 over a spread of about 2 loses the variance without the shifts), and the merge as a float32 fold
 * over the tiles in order of t of DESIGN.md's formula (any other order gives other bits).
 */
void check_linear_statistics(int n, int in, int out, float offset, std::mt19937 &rng) {
    const std::string name = "linear statistics " + std::to_string(n) + "x" + std::to_string(in) + "->"
            + std::to_string(out) + " offset " + std::to_string(offset);
    const int tiles = (n + BM - 1) / BM;
    Buf x(size_t(n) * in), w(size_t(out) * in), b(out), z(size_t(n) * out), zPlain(size_t(n) * out);
    Buf part(size_t(tiles) * 2 * out), stats(size_t(2) * out);
    fill(x, rng, 2.0f);
    fill(w, rng, 1.0f / std::sqrt((float)in));
    fill(b, rng, 0.5f);
    for (int j = 0; j < out; j++) {
        b[j] += offset;
    }
    const Drop eval{0, 0.0f, 0, 0};
    dim3 grid{unsigned((out + BN - 1) / BN), unsigned(tiles), 1};
    launch(grid, THREADS, [&] {
        gemm_forward(n, out, in, x.p, w.p, b.p, zPlain.p, nullptr, F4J_IDENTITY, 0.0f, nullptr, DROP_WORDS(eval));
    });
    launch(grid, THREADS, [&] { gemm_forward_stats(n, out, in, x.p, w.p, b.p, z.p, part.p); });
    launch(dim3{unsigned((out + 63) / 64), 1, 1}, 64, [&] { bn_stats_merge(n, out, BM, z.p, part.p, stats.p); });
    for (size_t e = 0; e < z.n; e++) {
        expect(std::memcmp(&z[e], &zPlain[e], sizeof(float)) == 0, name + " z at " + std::to_string(e)
                + ": " + exact(z[e]) + " against gemm_forward's " + exact(zPlain[e]));
    }
    const double u32 = std::ldexp(1.0, -24);
    for (int j = 0; j < out; j++) {
        const std::string col = name + " feature " + std::to_string(j);
        for (int t = 0; t < tiles; t++) {
            int r0 = t * BM, r1 = std::min(n, r0 + BM);
            const auto [ct, s1, s1abs, s2] = shifted_sums(z, out, j, r0, r1);
            /* A float32 sum of r1 - r0 terms, each rounded once or twice. */
            within(part[size_t(2 * t) * out + j], s1, 2 * (r1 - r0 + 2) * u32 * s1abs + 1e-30,
                   col + " tile " + std::to_string(t) + " S1");
            within(part[size_t(2 * t + 1) * out + j], s2, 2 * (r1 - r0 + 4) * u32 * s2 + 1e-30,
                   col + " tile " + std::to_string(t) + " S2");
        }
        const auto [c, s1, s1abs, s2] = shifted_sums(z, out, j, 0, n);
        double m1 = s1 / n, mean = c + m1, var = std::max(s2 / n - m1 * m1, 0.0);
        double eM1 = u32 * s1abs + u32 * std::fabs(m1);
        within(stats[j], mean, 2 * (eM1 + u32 * (std::fabs(c) + std::fabs(m1))), col + " mean");
        within(stats[size_t(out) + j], var, 2 * ((n + 4) * u32 * s2 / n + 2 * std::fabs(m1) * eM1 + 2 * u32 * m1 * m1),
               col + " variance");
        /* DESIGN.md's merge, tile after tile, in float32. */
        float cf = z[j], count = 0.0f, mf = 0.0f, m2 = 0.0f;
        for (int t = 0; t < tiles; t++) {
            int r0 = t * BM;
            float nt = (float)std::min(BM, n - r0), ps1 = part[size_t(2 * t) * out + j];
            float pm = ps1 / nt;
            float meanT = (z[size_t(r0) * out + j] - cf) + pm;
            float m2T = part[size_t(2 * t + 1) * out + j] - ps1 * pm;
            float total = count + nt;
            float dv = meanT - mf;
            mf += dv * (nt / total);
            m2 += m2T + dv * dv * (count * nt / total);
            count = total;
        }
        float vf = m2 / count;
        float want[2] = {cf + mf, vf > 0.0f ? vf : 0.0f};
        expect(std::memcmp(&stats[j], &want[0], sizeof(float)) == 0
                       && std::memcmp(&stats[size_t(out) + j], &want[1], sizeof(float)) == 0,
               col + ": the statistics " + exact(stats[j]) + ", " + exact(stats[size_t(out) + j])
                       + " are not the tiles merged in order, " + exact(want[0]) + ", " + exact(want[1]));
    }
}

} // namespace

int main() {
    std::mt19937 rng(20261122);
    check_philox_known_answers();
    const Drop half{1, 0.5f, 0x1122334455667788ull, 0x99AABBCCDDEEFF00ull};
    const Drop none{1, 0.0f, 7, 3};
    const Drop all{1, 1.0f, 7, 3};
    const Drop eval{0, 0.0f, 0, 0};
    struct Shape { int n, in, out; };
    const Shape shapes[] = {{1, 1, 1}, {3, 5, 7}, {4, 8, 4}, {129, 9, 130}, {130, 131, 5}, {67, 300, 257},
                            {2, 1030, 3}, {132, 16, 128}};
    for (const Shape &sh : shapes) {
        for (int act = 0; act < ACTIVATIONS; act++) {
            check_layer(sh.n, sh.in, sh.out, act, alpha_of(act), half, 1, rng);
        }
        check_layer(sh.n, sh.in, sh.out, F4J_RELU, 0.0f, eval, 1, rng);
    }
    check_layer(33, 20, 12, F4J_RELU, 0.0f, none, 1, rng);
    check_layer(33, 20, 12, F4J_RELU, 0.0f, all, 1, rng);
    check_layer(600, 20, 12, F4J_GELU, 0.0f, half, 3, rng);
    check_layer(300, 36, 140, F4J_IDENTITY, 0.0f, half, 4, rng);
    check_layer(37, 300, 9, F4J_LEAKY_RELU, 0.2f, eval, 5, rng);
    check_layer(300, 36, 20, F4J_ELU, 1.0f, half, 3, rng);
    check_layer(37, 300, 9, F4J_ELU, 2.5f, eval, 5, rng);
    check_layer(300, 36, 20, F4J_PRELU, 0.0f, half, 3, rng);
    check_layer(37, 300, 9, F4J_PRELU, 0.0f, eval, 5, rng);
    /* Slices of a larger batch: an element base that is and is not a multiple of 4, and one past 2^32. */
    for (unsigned long long base : {7ULL * 9, 12ULL * 9, (1ULL << 32) + 5}) {
        for (int act = 0; act < ACTIVATIONS; act++) {
            check_layer(5, 13, 9, act, alpha_of(act), half.at(base), 1, rng);
        }
        check_layer(300, 36, 9, F4J_GELU, 0.0f, half.at(base), 3, rng);
        check_mask(1029, half.at(base));
    }
    /*
     * Channel dropout (4 and 3 columns per channel) and variational dropout (3 sequences of 12 columns; period
     * 3 * 12), alone, together, and on slices whose element base is and is not a multiple of 4.
     */
    for (const Drop &m : {half.mapped(0, 4), half.mapped(0, 3), half.mapped(3 * 12, 1), half.mapped(2 * 12, 4),
                          half.at(5 * 12).mapped(3 * 12, 1), half.at(7 * 12).mapped(0, 3)}) {
        for (int act = 0; act < ACTIVATIONS; act++) {
            check_layer(9, 13, 12, act, alpha_of(act), m, 1, rng);
        }
        check_layer(130, 20, 12, F4J_GELU, 0.0f, m, 3, rng);
        check_mask(12 * 11, m);
    }
    check_forward_without_z(9, 21, 130, half, rng);
    for (int act = 0; act < ACTIVATIONS; act++) {
        check_layer(9, 13, 11, act, alpha_of(act), half, 1, rng, true);
        check_layer(9, 13, 11, act, alpha_of(act), eval, 1, rng, true);
    }
    check_layer(600, 13, 11, F4J_RELU, 0.0f, half, 3, rng, true);
    for (long long total : {1LL, 3LL, 4LL, 1029LL, 4096LL}) {
        check_mask(total, half);
    }
    check_mask(1029, eval);
    /* DropConnect: the weight mask in the forward's and dx's W loads and dw's store, split K included. */
    const Drop connect{1, 0.5f, 0x1122334455667788ull, 0x99AABBCCDDEEFF00ull, 0, 1};
    const Shape connectShapes[] = {{1, 1, 1}, {3, 5, 7}, {129, 9, 130}, {2, 1030, 3}};
    for (const Shape &sh : connectShapes) {
        for (int act = 0; act < ACTIVATIONS; act++) {
            check_layer(sh.n, sh.in, sh.out, act, alpha_of(act), connect, 1, rng);
        }
    }
    check_layer(67, 300, 257, F4J_RELU, 0.0f, connect, 1, rng);
    check_layer(600, 20, 12, F4J_GELU, 0.0f, connect, 3, rng);
    check_layer(37, 300, 9, F4J_LEAKY_RELU, 0.2f, connect, 5, rng);
    check_layer(33, 20, 12, F4J_RELU, 0.0f, Drop{1, 1.0f, 7, 3, 0, 1}, 1, rng);
    check_layer(33, 20, 12, F4J_RELU, 0.0f, Drop{1, 0.0f, 7, 3, 0, 1}, 1, rng);
    check_layer(9, 13, 11, F4J_RELU, 0.0f, connect, 1, rng, true);
    check_forward_without_z(9, 21, 130, connect, rng);
    for (long long total : {1LL, 3LL, 1029LL, 4096LL}) {
        check_mask(total, connect);
    }
    for (const Drop &d : {half, half.at(7), half.mapped(0, 3), half.at(5).mapped(4 * 9, 1), eval}) {
        check_dropout_apply(1029, d, rng);
    }
    check_cross_entropy(rng);
    check_optimisers(rng);
    for (int act = 0; act < ACTIVATIONS; act++) {
        for (const Shape &sh : {Shape{2, 0, 3}, Shape{37, 0, 29}, Shape{300, 0, 5}, Shape{5, 0, 300}}) {
            check_batch_norm(sh.n, sh.out, act, alpha_of(act), 1e-5f, half, rng);
            check_batch_norm(sh.n, sh.out, act, alpha_of(act), 0.5f, eval, rng);
        }
        check_batch_norm(40, 9, act, alpha_of(act), 1e-5f, half.at(13), rng);
        /* Channel (3 features) and variational (5 rows a step) dropout in the batch-norm pass. */
        check_batch_norm(40, 9, act, alpha_of(act), 1e-5f, half.at(13).mapped(0, 3), rng);
        check_batch_norm(40, 9, act, alpha_of(act), 1e-5f, half.mapped(5 * 9, 1), rng);
    }
    /* One tile, an edge row tile (129 = BM + 1), several, a 44-row edge tile (300), and an edge column tile. */
    for (const Shape &sh : {Shape{1, 1, 1}, Shape{3, 5, 7}, Shape{129, 9, 130}, Shape{300, 20, 37},
                            Shape{640, 8, 5}, Shape{256, 16, 128}}) {
        for (float offset : {0.0f, 1000.0f}) {
            check_linear_statistics(sh.n, sh.in, sh.out, offset, rng);
        }
    }
    std::printf("%d of %d checks failed\n", failures, checks);
    return failures == 0 ? 0 : 1;
}
