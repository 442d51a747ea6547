// Layer normalization kernels: forward, input gradient, affine gradients.
//
// The formulas are those of kernels/reference/layer_norm.py; read its docstrings first.
// Layout (contiguous): rows x[r * D + j], one row = the D normalized values of one sample.
// scalar_t is float or double (the launcher builds this file once for each).
//
// Reductions (a row's sums) run one BLOCK per reduced set (BLOCK = 256 threads, from the
// launcher): thread t takes elements t, t + blockDim.x, t + 2 blockDim.x, ... of the set
// and keeps a partial sum, then block_sum (block_reduce.cuh: warp shuffles, then one
// value per warp through shared memory) adds them up. Reductions convert
// their operands to double and accumulate in double for both builds, as the Numba
// kernels do: the kernels are limited by memory bandwidth, so the double arithmetic
// costs little, and a float running sum over thousands of values would lose digits.
//
// Statistics are two-pass, not Welford: pass one sums x for the mean, pass two sums
// (x - mean)^2. Both passes are plain sums, so one block_sum serves them (Welford would
// have to merge (count, mean, M2) triples at every step of the reduction); the second
// pass re-reads a set that was just read (from L2 on the GPU), and subtracting the exact
// mean first avoids the catastrophic cancellation of E[x^2] - E[x]^2.
// The forward's normalize pass runs in scalar_t, the input gradient in double.

#include "block_reduce.cuh"

// layer_norm_forward:
//     mean[r] = sum_j x[r, j] / D,   rstd[r] = 1 / sqrt(sum_j (x[r, j] - mean[r])^2 / D + eps)
//     y[r, j] = (x[r, j] - mean[r]) * rstd[r] * weight[j] + bias[j]
// One block per row: r = blockIdx.x. Thread t handles columns j = t, t + blockDim.x, ...
// in both statistics passes and in the normalize pass (which runs in scalar_t).
extern "C" __global__ void layer_norm_forward(const scalar_t* __restrict__ x, const scalar_t* __restrict__ weight,
                                              const scalar_t* __restrict__ bias, scalar_t* __restrict__ y,
                                              scalar_t* __restrict__ mean, scalar_t* __restrict__ rstd, long long R,
                                              long long D, scalar_t eps) {
    __shared__ double partials[32];  // one per warp (block_reduce.cuh)
    const long long r = blockIdx.x;
    const int t = threadIdx.x;
    const long long base = r * D;

    double total = 0.0;
    for (long long j = t; j < D; j += blockDim.x) total += (double)x[base + j];
    const double row_mean = block_sum(total, partials) / D;

    double squares = 0.0;
    for (long long j = t; j < D; j += blockDim.x) {
        const double deviation = (double)x[base + j] - row_mean;
        squares += deviation * deviation;
    }
    const double row_var = block_sum(squares, partials) / D;

    const scalar_t m = (scalar_t)row_mean;
    const scalar_t inv = (scalar_t)(1.0 / sqrt(row_var + (double)eps));
    if (t == 0) {
        mean[r] = m;
        rstd[r] = inv;
    }
    for (long long j = t; j < D; j += blockDim.x) y[base + j] = (x[base + j] - m) * inv * weight[j] + bias[j];
}

// layer_norm_backward_input:
//     g = dy[r, j] * weight[j],  xhat = (x[r, j] - mean[r]) * rstd[r]
//     dx[r, j] = rstd[r] * (g - sum_j g / D - xhat * sum_j g * xhat / D)
// One block per row: r = blockIdx.x; thread t handles columns j = t, t + blockDim.x, ...
// The two row sums go through block_sum; the whole kernel computes in double.
extern "C" __global__ void layer_norm_backward_input(const scalar_t* __restrict__ dy, const scalar_t* __restrict__ x,
                                                     const scalar_t* __restrict__ mean,
                                                     const scalar_t* __restrict__ rstd,
                                                     const scalar_t* __restrict__ weight, scalar_t* __restrict__ dx,
                                                     long long R, long long D) {
    __shared__ double partials[32];  // one per warp (block_reduce.cuh)
    const long long r = blockIdx.x;
    const int t = threadIdx.x;
    const long long base = r * D;
    const double m = mean[r];  // the whole row runs in double (D values, read twice)
    const double inv = rstd[r];

    double sum_g = 0.0;
    double sum_g_xhat = 0.0;
    for (long long j = t; j < D; j += blockDim.x) {
        const double g = (double)dy[base + j] * weight[j];
        sum_g += g;
        sum_g_xhat += g * ((x[base + j] - m) * inv);
    }
    const double mean_g = block_sum(sum_g, partials) / D;
    const double mean_g_xhat = block_sum(sum_g_xhat, partials) / D;

    for (long long j = t; j < D; j += blockDim.x) {
        const double xhat = (x[base + j] - m) * inv;
        dx[base + j] = (scalar_t)(inv * ((double)dy[base + j] * weight[j] - mean_g - xhat * mean_g_xhat));
    }
}

// layer_norm_backward_affine:
//     dweight[j] = sum_r dy[r, j] * xhat[r, j],   dbias[j] = sum_r dy[r, j]
// One thread per column: j = blockIdx.x * blockDim.x + threadIdx.x walks all R rows.
// Neighbouring threads read neighbouring columns of a row, so the reads coalesce; no
// thread shares an output, so there is no reduction across threads.
extern "C" __global__ void layer_norm_backward_affine(const scalar_t* __restrict__ dy, const scalar_t* __restrict__ x,
                                                      const scalar_t* __restrict__ mean,
                                                      const scalar_t* __restrict__ rstd, scalar_t* __restrict__ dweight,
                                                      scalar_t* __restrict__ dbias, long long R, long long D) {
    const long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= D) return;
    double sum_dy_xhat = 0.0;
    double sum_dy = 0.0;
    for (long long r = 0; r < R; ++r) {
        const double m = mean[r];
        const double inv = rstd[r];
        sum_dy_xhat += (double)dy[r * D + j] * ((x[r * D + j] - m) * inv);
        sum_dy += dy[r * D + j];
    }
    dweight[j] = (scalar_t)sum_dy_xhat;
    dbias[j] = (scalar_t)sum_dy;
}
