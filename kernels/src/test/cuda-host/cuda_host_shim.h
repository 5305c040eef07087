/*
 * Just enough of CUDA C for g++ to compile fuse4j.cu as host code, so that the kernels' indexing, tiling, edge
 * handling and epilogue can be checked on machines without a GPU (kernel_check.cpp). A launch runs one host
 * thread per CUDA thread of a block, and the blocks one after another: __shared__ variables become statics that
 * all threads of the running block share, and __syncthreads() is a barrier across those threads. Timing means
 * nothing here; only results do.
 */
#ifndef CUDA_HOST_SHIM_H
#define CUDA_HOST_SHIM_H

#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdint>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __shared__ static
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)

struct dim3 {
    unsigned int x = 1, y = 1, z = 1;
};
struct uint4 {
    unsigned int x, y, z, w;
};
struct alignas(16) float4 {
    float x, y, z, w;
};

inline uint4 make_uint4(unsigned int x, unsigned int y, unsigned int z, unsigned int w) {
    return uint4{x, y, z, w};
}
inline float4 make_float4(float x, float y, float z, float w) {
    return float4{x, y, z, w};
}
inline unsigned int __umulhi(unsigned int a, unsigned int b) {
    return (unsigned int)(((unsigned long long)a * b) >> 32);
}
using std::max;
using std::min;

inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;
inline std::barrier<> *shim_block_barrier;

inline void __syncthreads() {
    shim_block_barrier->arrive_and_wait();
}

#endif
