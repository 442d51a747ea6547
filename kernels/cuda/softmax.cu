// Softmax, log-softmax and the fused softmax cross-entropy: CUDA kernels.
//
// Same formulas as kernels/reference/softmax.py (read its docstring for m, s, lse and
// the cross-entropy formulas); built once with scalar_t = float, once with double.
//
// Thread mapping (every kernel): ONE BLOCK PER ROW, not one thread per output element,
// because every output needs the row's max and sum. Block `row = blockIdx.x` owns the
// COLS contiguous entries of its row; thread threadIdx.x handles the entries
//     col = threadIdx.x, threadIdx.x + blockDim.x, threadIdx.x + 2 blockDim.x, ...
// (neighbouring threads read neighbouring addresses: coalesced), keeps a partial max
// or sum in a register, and the block combines the partials with block_max / block_sum
// (block_reduce.cuh: warp shuffles, then one value per warp through shared memory).
//
// The Numba twin (kernels/cpu/softmax.py) loops `for row in prange(rows)` over the
// same rows and `for col in range(cols)` over the same entries, with the same names.
//
// Preconditions (checked by the op before any launch): COLS >= 1, blockDim.x a multiple
// of 32 (the launcher's BLOCK, 256), every target ignore_index or in [0, C). Partial
// maxima start from the row's first entry x_row[0], which exists since COLS >= 1 and
// needs no -infinity constant.

#include "block_reduce.cuh"

// The maximum of the row, from every thread's strided share of it.
__device__ scalar_t row_maximum(scalar_t* partials, const scalar_t* x_row, int cols) {
    scalar_t row_max = x_row[0];
    for (int col = threadIdx.x; col < cols; col += blockDim.x) {
        if (x_row[col] > row_max) {
            row_max = x_row[col];
        }
    }
    return block_max(row_max, partials);
}

// y[r, c] = exp(x[r, c] - m[r]) / s[r].  Block r = blockIdx.x computes row r: the max,
// then exp(x - m) written to y while summing, then y scaled by 1 / s. Each thread
// rescales only the entries it wrote itself, so no barrier is needed between them.
extern "C" __global__ void softmax_forward(const scalar_t* x, scalar_t* y, long long rows, int cols) {
    __shared__ scalar_t partials[32];  // one per warp (block_reduce.cuh)
    long long row = blockIdx.x;
    if (row >= rows) return;  // the whole block leaves together: no barrier is split
    const scalar_t* x_row = x + row * cols;
    scalar_t* y_row = y + row * cols;

    scalar_t row_max = row_maximum(partials, x_row, cols);
    scalar_t row_sum = 0;
    for (int col = threadIdx.x; col < cols; col += blockDim.x) {
        scalar_t shifted_exp = exp(x_row[col] - row_max);
        y_row[col] = shifted_exp;
        row_sum += shifted_exp;
    }
    row_sum = block_sum(row_sum, partials);
    scalar_t inverse_sum = 1 / row_sum;
    for (int col = threadIdx.x; col < cols; col += blockDim.x) {
        y_row[col] = y_row[col] * inverse_sum;
    }
}

// dx[r, c] = y[r, c] * (dy[r, c] - sum_k dy[r, k] y[r, k]).  Block r computes row r.
extern "C" __global__ void softmax_backward(const scalar_t* y, const scalar_t* dy, scalar_t* dx, long long rows,
                                            int cols) {
    __shared__ scalar_t partials[32];  // one per warp (block_reduce.cuh)
    long long row = blockIdx.x;
    if (row >= rows) return;
    const scalar_t* y_row = y + row * cols;
    const scalar_t* dy_row = dy + row * cols;
    scalar_t* dx_row = dx + row * cols;

    scalar_t row_dot = 0;
    for (int col = threadIdx.x; col < cols; col += blockDim.x) {
        row_dot += dy_row[col] * y_row[col];
    }
    row_dot = block_sum(row_dot, partials);
    for (int col = threadIdx.x; col < cols; col += blockDim.x) {
        dx_row[col] = y_row[col] * (dy_row[col] - row_dot);
    }
}

// y[r, c] = (x[r, c] - m[r]) - log(s[r]).  Block r computes row r.
extern "C" __global__ void log_softmax_forward(const scalar_t* x, scalar_t* y, long long rows, int cols) {
    __shared__ scalar_t partials[32];  // one per warp (block_reduce.cuh)
    long long row = blockIdx.x;
    if (row >= rows) return;
    const scalar_t* x_row = x + row * cols;
    scalar_t* y_row = y + row * cols;

    scalar_t row_max = row_maximum(partials, x_row, cols);
    scalar_t row_sum = 0;
    for (int col = threadIdx.x; col < cols; col += blockDim.x) {
        row_sum += exp(x_row[col] - row_max);
    }
    row_sum = block_sum(row_sum, partials);
    scalar_t log_sum = log(row_sum);
    for (int col = threadIdx.x; col < cols; col += blockDim.x) {
        y_row[col] = (x_row[col] - row_max) - log_sum;
    }
}

// dx[r, c] = dy[r, c] - exp(y[r, c]) * sum_k dy[r, k].  Block r computes row r.
extern "C" __global__ void log_softmax_backward(const scalar_t* y, const scalar_t* dy, scalar_t* dx, long long rows,
                                                int cols) {
    __shared__ scalar_t partials[32];  // one per warp (block_reduce.cuh)
    long long row = blockIdx.x;
    if (row >= rows) return;
    const scalar_t* y_row = y + row * cols;
    const scalar_t* dy_row = dy + row * cols;
    scalar_t* dx_row = dx + row * cols;

    scalar_t row_sum = 0;
    for (int col = threadIdx.x; col < cols; col += blockDim.x) {
        row_sum += dy_row[col];
    }
    row_sum = block_sum(row_sum, partials);
    for (int col = threadIdx.x; col < cols; col += blockDim.x) {
        dx_row[col] = dy_row[col] - exp(y_row[col]) * row_sum;
    }
}

// Per-row loss = (1 - eps) w[t] (lse - x[t]) + (eps / C) sum_c w[c] (lse - x[c]), and
// lse[r] for the backward. Block r computes row r: the max, then in one pass the
// shifted sum s and, when smoothing, W = sum_c w[c] and sum_c w[c] (m - x[c]); thread 0
// writes loss[r] and lse[r]. `eps > 0` is the same for the whole grid, so every thread
// of a block takes the same branch and meets the same barriers.
extern "C" __global__ void cross_entropy_forward(const scalar_t* x, const long long* target, const scalar_t* weight,
                                                 scalar_t* loss, scalar_t* lse, long long rows, int cols,
                                                 long long ignore_index, scalar_t label_smoothing) {
    __shared__ scalar_t partials[32];  // one per warp (block_reduce.cuh)
    long long row = blockIdx.x;
    if (row >= rows) return;
    const scalar_t* x_row = x + row * cols;
    scalar_t eps = label_smoothing;

    scalar_t row_max = row_maximum(partials, x_row, cols);
    scalar_t row_sum = 0;
    scalar_t weight_sum = 0;
    scalar_t weighted_gap = 0;
    for (int col = threadIdx.x; col < cols; col += blockDim.x) {
        row_sum += exp(x_row[col] - row_max);
        if (eps > 0) {
            weight_sum += weight[col];
            weighted_gap += weight[col] * (row_max - x_row[col]);
        }
    }
    row_sum = block_sum(row_sum, partials);
    if (eps > 0) {
        weight_sum = block_sum(weight_sum, partials);
        weighted_gap = block_sum(weighted_gap, partials);
    }
    if (threadIdx.x != 0) return;  // after the last barrier: thread 0 writes the results

    scalar_t log_sum = log(row_sum);
    lse[row] = row_max + log_sum;
    long long target_class = target[row];
    if (target_class == ignore_index) {
        loss[row] = 0;
    } else {
        // lse - x[t] = log(s) + (m - x[t]): two non-negative terms.
        scalar_t nll = weight[target_class] * (log_sum + (row_max - x_row[target_class]));
        scalar_t smooth = weight_sum * log_sum + weighted_gap;
        loss[row] = (1 - eps) * nll + (eps / cols) * smooth;
    }
}

// dx[r, c] = g[r] ((1 - eps) w[t] (p[r, c] - [c == t]) + (eps / C) (W p[r, c] - w[c])),
// p[r, c] = exp(x[r, c] - lse[r]).  Block r computes row r; when smoothing, the block
// first sums W = sum_c w[c] (the Numba twin sums it once for all rows). A row whose
// target is ignore_index gets zeros; that test is the same for the whole block.
extern "C" __global__ void cross_entropy_backward(const scalar_t* x, const scalar_t* lse, const long long* target,
                                                  const scalar_t* weight, const scalar_t* grad_loss, scalar_t* dx,
                                                  long long rows, int cols, long long ignore_index,
                                                  scalar_t label_smoothing) {
    __shared__ scalar_t partials[32];  // one per warp (block_reduce.cuh)
    long long row = blockIdx.x;
    if (row >= rows) return;
    const scalar_t* x_row = x + row * cols;
    scalar_t* dx_row = dx + row * cols;
    scalar_t eps = label_smoothing;

    long long target_class = target[row];
    if (target_class == ignore_index) {
        for (int col = threadIdx.x; col < cols; col += blockDim.x) {
            dx_row[col] = 0;
        }
        return;
    }
    scalar_t weight_sum = 0;
    if (eps > 0) {
        for (int col = threadIdx.x; col < cols; col += blockDim.x) {
            weight_sum += weight[col];
        }
        weight_sum = block_sum(weight_sum, partials);
    }
    scalar_t g = grad_loss[row];
    scalar_t target_weight = weight[target_class];
    for (int col = threadIdx.x; col < cols; col += blockDim.x) {
        scalar_t p = exp(x_row[col] - lse[row]);
        scalar_t one_hot = col == target_class ? 1 : 0;
        scalar_t nll_grad = target_weight * (p - one_hot);
        scalar_t smooth_grad = weight_sum * p - weight[col];
        dx_row[col] = g * ((1 - eps) * nll_grad + (eps / cols) * smooth_grad);
    }
}
