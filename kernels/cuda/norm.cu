// Normalization kernels: layer norm, group norm, batch norm's backward, LRN.
//
// The formulas are those of kernels/reference/norm.py; read its docstrings first.
// Layouts (contiguous): rows x[r * D + j] for layer norm; channels x[(n * C + c) * S + s]
// for group norm, batch norm and LRN (S = product of the spatial dims, 1 for (N, C)).
// scalar_t is float or double (the launcher builds this file once for each).
//
// Reductions (a row's, a group's or a channel's sums) run one BLOCK of NORM_BLOCK
// threads per reduced set: thread t takes elements t, t + blockDim.x, t + 2 blockDim.x,
// ... of the set and keeps a partial sum, then block_sum adds the block's partial sums
// through shared memory (no warp shuffles: the CPU emulation has no warps). Reductions
// convert their operands to double and accumulate in double for both builds, as the
// Numba kernels do: the kernels are limited by memory bandwidth, so the double
// arithmetic costs little, and a float running sum over thousands of values would lose
// digits. Elementwise passes run in scalar_t (layer norm's input gradient in double).
//
// Statistics are two-pass, not Welford: pass one sums x for the mean, pass two sums
// (x - mean)^2. Both passes are plain sums, so a single tree reduction in shared
// memory serves them (Welford would have to merge (count, mean, M2) triples at every
// step of the tree); the second pass re-reads a set that was just read (from L2 on the
// GPU), and subtracting the exact mean first avoids the catastrophic cancellation of
// E[x^2] - E[x]^2.
//
// The scalar parameters eps, alpha, beta, k arrive as scalar_t and are used in double.

// Threads per block of the reduction kernels: a power of 2 (the tree halves it) and
// the size of their shared buffers. The launch wrappers pass block = (NORM_BLOCK,).
#define NORM_BLOCK 256

// block_sum: the sum of `value` over the threads of the block, returned to every thread.
// Each thread writes its value to buffer[t]; then, as a tree, the first half of the
// active threads add the second half's values to their own (stride 128, 64, ..., 1),
// with __syncthreads() between the steps so that each step reads finished values.
// The last __syncthreads() lets the caller reuse `buffer` for the next sum.
// Every thread of the block must call it (it contains barriers).
__device__ double block_sum(double value, double* buffer) {
    const int t = threadIdx.x;
    buffer[t] = value;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (t < stride) buffer[t] += buffer[t + stride];
        __syncthreads();
    }
    const double total = buffer[0];
    __syncthreads();
    return total;
}

// ------------------------------------------------------------------------ layer norm

// layer_norm_forward:
//     mean[r] = sum_j x[r, j] / D,   rstd[r] = 1 / sqrt(sum_j (x[r, j] - mean[r])^2 / D + eps)
//     y[r, j] = (x[r, j] - mean[r]) * rstd[r] * weight[j] + bias[j]
// One block per row: r = blockIdx.x. Thread t handles columns j = t, t + blockDim.x, ...
// in both statistics passes and in the normalize pass (which runs in scalar_t).
extern "C" __global__ void layer_norm_forward(const scalar_t* __restrict__ x, const scalar_t* __restrict__ weight,
                                              const scalar_t* __restrict__ bias, scalar_t* __restrict__ y,
                                              scalar_t* __restrict__ mean, scalar_t* __restrict__ rstd,
                                              long long R, long long D, scalar_t eps) {
    __shared__ double buffer[NORM_BLOCK];
    const long long r = blockIdx.x;
    const int t = threadIdx.x;
    const long long base = r * D;

    double total = 0.0;
    for (long long j = t; j < D; j += blockDim.x) total += (double)x[base + j];
    const double row_mean = block_sum(total, buffer) / D;

    double squares = 0.0;
    for (long long j = t; j < D; j += blockDim.x) {
        const double deviation = (double)x[base + j] - row_mean;
        squares += deviation * deviation;
    }
    const double row_var = block_sum(squares, buffer) / D;

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
extern "C" __global__ void layer_norm_backward_input(const scalar_t* __restrict__ dy,
                                                     const scalar_t* __restrict__ x,
                                                     const scalar_t* __restrict__ mean,
                                                     const scalar_t* __restrict__ rstd,
                                                     const scalar_t* __restrict__ weight,
                                                     scalar_t* __restrict__ dx, long long R, long long D) {
    __shared__ double buffer[NORM_BLOCK];
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
    const double mean_g = block_sum(sum_g, buffer) / D;
    const double mean_g_xhat = block_sum(sum_g_xhat, buffer) / D;

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
extern "C" __global__ void layer_norm_backward_affine(const scalar_t* __restrict__ dy,
                                                      const scalar_t* __restrict__ x,
                                                      const scalar_t* __restrict__ mean,
                                                      const scalar_t* __restrict__ rstd,
                                                      scalar_t* __restrict__ dweight, scalar_t* __restrict__ dbias,
                                                      long long R, long long D) {
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

// ------------------------------------------------------------------------ group norm

// group_norm_forward:
//     statistics of the M = CG * S values of group (n, g), which are contiguous from
//     base = (n * C + g * CG) * S = row * M, then
//     y[n, c, s] = (x[n, c, s] - mean[n, g]) * rstd[n, g] * weight[c] + bias[c]
// One block per (n, g): row = blockIdx.x = n * G + g. Thread t handles the group's
// elements i = t, t + blockDim.x, ...; element i has channel c = g * CG + i / S.
extern "C" __global__ void group_norm_forward(const scalar_t* __restrict__ x, const scalar_t* __restrict__ weight,
                                              const scalar_t* __restrict__ bias, scalar_t* __restrict__ y,
                                              scalar_t* __restrict__ mean, scalar_t* __restrict__ rstd,
                                              long long N, int C, long long S, int G, scalar_t eps) {
    __shared__ double buffer[NORM_BLOCK];
    const long long row = blockIdx.x;
    const int t = threadIdx.x;
    const int CG = C / G;
    const long long M = CG * S;
    const int g = (int)(row % G);
    const long long base = row * M;

    double total = 0.0;
    for (long long i = t; i < M; i += blockDim.x) total += (double)x[base + i];
    const double group_mean = block_sum(total, buffer) / M;

    double squares = 0.0;
    for (long long i = t; i < M; i += blockDim.x) {
        const double deviation = (double)x[base + i] - group_mean;
        squares += deviation * deviation;
    }
    const double group_var = block_sum(squares, buffer) / M;

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
extern "C" __global__ void group_norm_backward_reduce(const scalar_t* __restrict__ dy,
                                                      const scalar_t* __restrict__ x,
                                                      const scalar_t* __restrict__ mean,
                                                      const scalar_t* __restrict__ rstd,
                                                      scalar_t* __restrict__ sum_dy,
                                                      scalar_t* __restrict__ sum_dy_xhat, long long N, int C,
                                                      long long S, int G) {
    __shared__ double buffer[NORM_BLOCK];
    const long long row = blockIdx.x;
    const int t = threadIdx.x;
    const int CG = C / G;
    const long long n = row / C;
    const int c = (int)(row % C);
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
    total_dy = block_sum(total_dy, buffer);
    total_dy_xhat = block_sum(total_dy_xhat, buffer);
    if (t == 0) {
        sum_dy[row] = (scalar_t)total_dy;
        sum_dy_xhat[row] = (scalar_t)total_dy_xhat;
    }
}

// ------------------------------------------------------------------------ batch norm

// batch_norm_backward_reduce:
//     sum_dy[c] = sum_{n, s} dy[n, c, s],
//     sum_dy_xhat[c] = invstd[c] * sum_{n, s} dy[n, c, s] * (x[n, c, s] - mean[c])
// One block per channel: c = blockIdx.x. Thread t handles the channel's elements
// j = t, t + blockDim.x, ... with j = n * S + s, at (n * C + c) * S + s.
extern "C" __global__ void batch_norm_backward_reduce(const scalar_t* __restrict__ dy,
                                                      const scalar_t* __restrict__ x,
                                                      const scalar_t* __restrict__ mean,
                                                      const scalar_t* __restrict__ invstd,
                                                      scalar_t* __restrict__ sum_dy,
                                                      scalar_t* __restrict__ sum_dy_xhat, long long N, int C,
                                                      long long S) {
    __shared__ double buffer[NORM_BLOCK];
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
    total_dy = block_sum(total_dy, buffer);
    total_dy_centered = block_sum(total_dy_centered, buffer);
    if (t == 0) {
        sum_dy[c] = (scalar_t)total_dy;
        sum_dy_xhat[c] = (scalar_t)(total_dy_centered * invstd[c]);
    }
}

// rowwise_backward_input: the elementwise pass of the batch norm and group norm input
// gradients, with the per-row coefficients folded by the launch wrapper:
//     dx[row, s] = A[p] * dy[row, s] - B[p] * (x[row, s] - mean[p]) - K[p],   p = row % P
// over the rows = N * C runs (n, c) of S values (P = C: per-channel coefficients, batch
// norm; P = N * C: per-(n, c) coefficients, group norm).
// One thread per element: index = blockIdx.x * blockDim.x + threadIdx.x = row * S + s.
extern "C" __global__ void rowwise_backward_input(const scalar_t* __restrict__ dy, const scalar_t* __restrict__ x,
                                                  const scalar_t* __restrict__ mean, const scalar_t* __restrict__ A,
                                                  const scalar_t* __restrict__ B, const scalar_t* __restrict__ K,
                                                  scalar_t* __restrict__ dx, long long total, long long S,
                                                  long long P) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) return;
    const long long p = (index / S) % P;
    dx[index] = A[p] * dy[index] - B[p] * (x[index] - mean[p]) - K[p];
}

// ---------------------------------------------------------------- local response norm

// lrn_forward:
//     scale[n, c, s] = k + alpha / size * sum_{j = max(c - size/2, 0)}^{min(c + (size-1)/2, C-1)} x[n, j, s]^2
//     y[n, c, s] = x[n, c, s] * scale[n, c, s]^(-beta)
// One thread per element: index = (n * C + c) * S + s, decoded as s = index % S,
// c = (index / S) % C, n = index / (S * C); the thread walks its window of channels.
extern "C" __global__ void lrn_forward(const scalar_t* __restrict__ x, scalar_t* __restrict__ y,
                                       scalar_t* __restrict__ scale, long long N, int C, long long S, int size,
                                       scalar_t alpha, scalar_t beta, scalar_t k) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= N * C * S) return;
    const long long s = index % S;
    const int c = (int)((index / S) % C);
    const long long n = index / (S * C);
    const int first = max(c - size / 2, 0);
    const int last = min(c + (size - 1) / 2, C - 1);
    double total = 0.0;
    for (int j = first; j <= last; ++j) {
        const double value = x[(n * C + j) * S + s];
        total += value * value;
    }
    const double denominator = (double)k + (double)alpha / size * total;
    scale[index] = (scalar_t)denominator;
    y[index] = (scalar_t)(x[index] * pow(denominator, -(double)beta));
}

// lrn_backward:
//     dx[n, j, s] = dy[n, j, s] * scale[n, j, s]^(-beta)
//                   - 2 alpha beta / size * x[n, j, s] * sum_c dy[n, c, s] * y[n, c, s] / scale[n, c, s]
// over the channels c whose window contains j: c in [j - (size-1)/2, j + size/2] within
// [0, C-1]. One thread per element of dx, decoded like lrn_forward (with j for c).
extern "C" __global__ void lrn_backward(const scalar_t* __restrict__ dy, const scalar_t* __restrict__ x,
                                        const scalar_t* __restrict__ y, const scalar_t* __restrict__ scale,
                                        scalar_t* __restrict__ dx, long long N, int C, long long S, int size,
                                        scalar_t alpha, scalar_t beta) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= N * C * S) return;
    const long long s = index % S;
    const int j = (int)((index / S) % C);
    const long long n = index / (S * C);
    const int first = max(j - (size - 1) / 2, 0);
    const int last = min(j + size / 2, C - 1);
    double total = 0.0;
    for (int c = first; c <= last; ++c) {
        const long long other = (n * C + c) * S + s;
        total += (double)dy[other] * y[other] / scale[other];
    }
    const double coefficient = 2.0 * (double)alpha * (double)beta / size;
    dx[index] = (scalar_t)(dy[index] * pow((double)scale[index], -(double)beta) - coefficient * x[index] * total);
}
