/*
 * The translation unit kernels/make-ptx compiles to fuse4j.ptx, the module the CUDA backend loads: the CUDA GEMM
 * and the elementwise kernels whose one text the OpenCL backend builds as well.
 */
#include "fused_linear.cu"
#include "elementwise.h"
