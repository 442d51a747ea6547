// Batch normalization kernels: statistics, the normalize pass, and the backward.
//
// The formulas are those of kernels/reference/batch_norm.py; read its docstrings first.
// Layout (contiguous): x has shape (N, C, S...), the trailing dims flattened into S, so
// (N, C), (N, C, L) and (N, C, H, W) are all served; element (n, c, s) is at
//     x[(n * C + c) * S + s],
// and a channel's M = N * S values are N runs of S contiguous values.
// scalar_t is float or double (the launcher builds this file once for each).
//
// Reductions (a channel's sums) run one BLOCK per channel (BLOCK = 256 threads, from the
// launcher): thread t takes the channel's elements j = t, t + blockDim.x, ...
// with j = n * S + s, keeps a partial sum, then block_sum (block_reduce.cuh: warp
// shuffles, then one value per warp through shared memory) adds them up. They convert their
// operands to double and accumulate in double for both builds: with float, a thread's
// running sum over N * S / 256 values would lose digits on large images, and the kernels
// are limited by memory bandwidth, so the double arithmetic costs nothing measurable.
// Elementwise passes run one thread per element, in scalar_t.

#include "block_reduce.cuh"

// batch_norm_statistics:
//     mean[c] = sum_{n, s} x[n, c, s] / M,   var[c] = sum_{n, s} (x[n, c, s] - mean[c])^2 / M
// One block per channel: c = blockIdx.x. Thread t handles the channel's elements
// j = t, t + blockDim.x, ... with j = n * S + s, at (n * C + c) * S + s, in both passes.
// Two passes, not E[x^2] - E[x]^2, which cancels catastrophically when the mean is large
// against the spread; the second pass re-reads values that were just read (from L2).
// mean and var are double arrays whatever scalar_t is: the caller computes the running
// statistics and invstd from them.
extern "C" __global__ void batch_norm_statistics(const scalar_t* __restrict__ x, double* __restrict__ mean,
                                                 double* __restrict__ var, long long N, int C, long long S) {
    __shared__ double partials[32];  // one per warp (block_reduce.cuh)
    const int c = blockIdx.x;
    const int t = threadIdx.x;
    const long long M = N * S;

    double total = 0.0;
    for (long long j = t; j < M; j += blockDim.x) {
        const long long n = j / S;
        const long long s = j - n * S;
        total += (double)x[(n * C + c) * S + s];
    }
    const double channel_mean = block_sum(total, partials) / M;

    double squares = 0.0;
    for (long long j = t; j < M; j += blockDim.x) {
        const long long n = j / S;
        const long long s = j - n * S;
        const double deviation = (double)x[(n * C + c) * S + s] - channel_mean;
        squares += deviation * deviation;
    }
    const double channel_var = block_sum(squares, partials) / M;

    if (t == 0) {
        mean[c] = channel_mean;
        var[c] = channel_var;
    }
}

// batch_norm_scale_shift: the normalize pass.
//     y[n, c, s] = x[n, c, s] * scale[c] + shift[c]
// One thread per element of y: thread `index` = blockIdx.x * blockDim.x + threadIdx.x
// computes y[index]. Its channel is decoded from index = (n * C + c) * S + s, so
// index / S = n * C + c, and c = (index / S) % C.
extern "C" __global__ void batch_norm_scale_shift(const scalar_t* __restrict__ x, const scalar_t* __restrict__ scale,
                                                  const scalar_t* __restrict__ shift, scalar_t* __restrict__ y,
                                                  long long total, int C, long long S) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) return;
    const int c = (int)((index / S) % C);
    y[index] = x[index] * scale[c] + shift[c];
}

// batch_norm_backward_reduce:
//     sum_dy[c] = sum_{n, s} dy[n, c, s],
//     sum_dy_xhat[c] = invstd[c] * sum_{n, s} dy[n, c, s] * (x[n, c, s] - mean[c])
// One block per channel: c = blockIdx.x. Thread t handles the channel's elements
// j = t, t + blockDim.x, ... with j = n * S + s, at (n * C + c) * S + s.
extern "C" __global__ void batch_norm_backward_reduce(const scalar_t* __restrict__ dy, const scalar_t* __restrict__ x,
                                                      const scalar_t* __restrict__ mean,
                                                      const scalar_t* __restrict__ invstd,
                                                      scalar_t* __restrict__ sum_dy, scalar_t* __restrict__ sum_dy_xhat,
                                                      long long N, int C, long long S) {
    __shared__ double partials[32];  // one per warp (block_reduce.cuh)
    const int c = blockIdx.x;
    const int t = threadIdx.x;
    const long long M = N * S;
    const double m = mean[c];

    double total_dy = 0.0;
    double total_dy_centered = 0.0;
    for (long long j = t; j < M; j += blockDim.x) {
        const long long n = j / S;
        const long long s = j - n * S;
        const long long index = (n * C + c) * S + s;
        total_dy += dy[index];
        total_dy_centered += (double)dy[index] * (x[index] - m);
    }
    total_dy = block_sum(total_dy, partials);
    total_dy_centered = block_sum(total_dy_centered, partials);
    if (t == 0) {
        sum_dy[c] = (scalar_t)total_dy;
        sum_dy_xhat[c] = (scalar_t)(total_dy_centered * invstd[c]);
    }
}

// batch_norm_backward_input: the elementwise pass of the input gradient, with the
// per-channel coefficients folded by the launch wrapper (A = weight invstd,
// B = A invstd sum_dy_xhat / M, K = A sum_dy / M):
//     dx[n, c, s] = A[c] * dy[n, c, s] - B[c] * (x[n, c, s] - mean[c]) - K[c]
// One thread per element: index = (n * C + c) * S + s, decoded c = (index / S) % C.
extern "C" __global__ void batch_norm_backward_input(const scalar_t* __restrict__ dy, const scalar_t* __restrict__ x,
                                                     const scalar_t* __restrict__ mean, const scalar_t* __restrict__ A,
                                                     const scalar_t* __restrict__ B, const scalar_t* __restrict__ K,
                                                     scalar_t* __restrict__ dx, long long total, int C, long long S) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) return;
    const int c = (int)((index / S) % C);
    dx[index] = A[c] * dy[index] - B[c] * (x[index] - mean[c]) - K[c];
}
