// Group normalization kernels: forward, the backward's per-(n, c) sums, input gradient.
//
// The formulas are those of kernels/reference/group_norm.py; read its docstrings first.
// Layout (contiguous): x[(n * C + c) * S + s], S = product of the spatial dims
// (1 for (N, C)); the C channels form G groups of CG = C / G consecutive channels, so
// the CG * S values of group (n, g) are contiguous.
// scalar_t is float or double (the launcher builds this file once for each).
//
// Reductions (a group's or an (n, c)'s sums) run one BLOCK per reduced set (BLOCK = 256 threads, from the
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
// Elementwise passes run in scalar_t.

#include "block_reduce.cuh"

// group_norm_forward:
//     statistics of the M = CG * S values of group (n, g), which are contiguous from
//     base = (n * C + g * CG) * S = row * M, then
//     y[n, c, s] = (x[n, c, s] - mean[n, g]) * rstd[n, g] * weight[c] + bias[c]
// One block per (n, g): row = blockIdx.x = n * G + g. Thread t handles the group's
// elements i = t, t + blockDim.x, ...; element i has channel c = g * CG + i / S.
extern "C" __global__ void group_norm_forward(const scalar_t* __restrict__ x, const scalar_t* __restrict__ weight,
                                              const scalar_t* __restrict__ bias, scalar_t* __restrict__ y,
                                              scalar_t* __restrict__ mean, scalar_t* __restrict__ rstd, long long N,
                                              int C, long long S, int G, scalar_t eps) {
    __shared__ double partials[32];  // one per warp (block_reduce.cuh)
    const long long row = blockIdx.x;
    const int t = threadIdx.x;
    const int CG = C / G;
    const long long M = CG * S;
    const int g = (int)(row % G);
    const long long base = row * M;

    double total = 0.0;
    for (long long i = t; i < M; i += blockDim.x) total += (double)x[base + i];
    const double group_mean = block_sum(total, partials) / M;

    double squares = 0.0;
    for (long long i = t; i < M; i += blockDim.x) {
        const double deviation = (double)x[base + i] - group_mean;
        squares += deviation * deviation;
    }
    const double group_var = block_sum(squares, partials) / M;

    const scalar_t m = (scalar_t)group_mean;
    const scalar_t inv = (scalar_t)(1.0 / sqrt(group_var + (double)eps));
    if (t == 0) {
        mean[row] = m;
        rstd[row] = inv;
    }
    for (long long i = t; i < M; i += blockDim.x) {
        const int c = g * CG + (int)(i / S);
        y[base + i] = (x[base + i] - m) * (inv * weight[c]) + bias[c];
    }
}

// group_norm_backward_reduce:
//     sum_dy[n, c] = sum_s dy[n, c, s],   sum_dy_xhat[n, c] = sum_s dy[n, c, s] * xhat[n, c, s]
// with xhat from the statistics of group n * G + c / CG.
// One block per (n, c): row = blockIdx.x = n * C + c, whose S values start at row * S;
// thread t handles s = t, t + blockDim.x, ...
extern "C" __global__ void group_norm_backward_reduce(const scalar_t* __restrict__ dy, const scalar_t* __restrict__ x,
                                                      const scalar_t* __restrict__ mean,
                                                      const scalar_t* __restrict__ rstd, scalar_t* __restrict__ sum_dy,
                                                      scalar_t* __restrict__ sum_dy_xhat, long long N, int C,
                                                      long long S, int G) {
    __shared__ double partials[32];  // one per warp (block_reduce.cuh)
    const long long row = blockIdx.x;
    const int t = threadIdx.x;
    const int CG = C / G;
    const int c = (int)(row % C);
    const long long n = row / C;
    const long long group = n * G + c / CG;
    const double m = mean[group];
    const double inv = rstd[group];
    const long long base = row * S;

    double total_dy = 0.0;
    double total_dy_xhat = 0.0;
    for (long long s = t; s < S; s += blockDim.x) {
        total_dy += dy[base + s];
        total_dy_xhat += (double)dy[base + s] * ((x[base + s] - m) * inv);
    }
    total_dy = block_sum(total_dy, partials);
    total_dy_xhat = block_sum(total_dy_xhat, partials);
    if (t == 0) {
        sum_dy[row] = (scalar_t)total_dy;
        sum_dy_xhat[row] = (scalar_t)total_dy_xhat;
    }
}

// group_norm_backward_input: the elementwise pass of the input gradient, with the
// per-(n, c) coefficients folded by the launch wrapper (see group_norm.py):
//     dx[n, c, s] = A[row] * dy[n, c, s] - B[row] * (x[n, c, s] - mean[row]) - K[row],
// row = n * C + c, over the N * C runs of S values.
// One thread per element: index = blockIdx.x * blockDim.x + threadIdx.x = row * S + s,
// decoded row = index / S.
extern "C" __global__ void group_norm_backward_input(const scalar_t* __restrict__ dy, const scalar_t* __restrict__ x,
                                                     const scalar_t* __restrict__ mean, const scalar_t* __restrict__ A,
                                                     const scalar_t* __restrict__ B, const scalar_t* __restrict__ K,
                                                     scalar_t* __restrict__ dx, long long total, long long S) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) return;
    const long long row = index / S;
    dx[index] = A[row] * dy[index] - B[row] * (x[index] - mean[row]) - K[row];
}
