// Pairwise distances in CUDA C: the GPU implementation of the "distance" family.
//
// Notation and formulas are those of kernels/reference/distance.py:
//     x1 (Q, D)  query rows      element (q, i) at q*D + i
//     x2 (T, D)  training rows   element (t, i) at t*D + i
//     d  (Q, T)  distances       element (q, t) at q*T + t
// scalar_t is float or double (the launcher builds this file once for each). Indices
// that can pass 2^31 (Q*T, Q*D, T*D for big data sets) are long long; a flat index is
// decoded fastest coordinate first. The Numba twins are in kernels/cpu/distance.py.
//
// L2 runs as (1) row_squared_norms on x1 and on x2, (2) the GEMM x1 @ x2^T in cuBLAS
// (through CuPy's matmul: the launch wrapper calls it), (3) l2_from_gram, which turns the
// GEMM's output into distances in place. L1 has no GEMM form: l1_distances is a tiled
// loop, the same tiling as a textbook shared-memory matrix product with the
// multiply-add replaced by |a - b| + acc.

// Side of the square tiles of l1_distances: a block of L1_TILE x L1_TILE threads. The
// launch wrapper passes block = (L1_TILE, L1_TILE) and must use the same number.
#define L1_TILE 16

// row_squared_norms: norms[r] = sum over i of x[r, i]^2, summed in double.
// One thread per row: thread `r` = blockIdx.x * blockDim.x + threadIdx.x reads the D
// contiguous values of row r. (Q and T are large and D moderate, so there are enough
// rows to fill the GPU; the GEMM costs D times more than this kernel anyway.)
extern "C" __global__ void row_squared_norms(const scalar_t* __restrict__ x, scalar_t* __restrict__ norms,
                                             long long rows, long long D) {
    const long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    double sum = 0.0;
    for (long long i = 0; i < D; ++i) {
        const double value = (double)x[r * D + i];
        sum += value * value;
    }
    norms[r] = (scalar_t)sum;
}

// l2_from_gram, in place on the GEMM's output d = x1 @ x2^T:
//     d[q, t] = max((n1[q] + n2[t]) - 2 * d[q, t], 0)
// One thread per element of d: thread `index` = q * T + t decodes t = index % T, then
// q = index / T (fastest coordinate first), and reads then writes d[index] (no other
// thread touches it). The clamp removes the tiny negative values that rounding leaves
// where the true distance is 0.
extern "C" __global__ void l2_from_gram(const scalar_t* __restrict__ n1, const scalar_t* __restrict__ n2,
                                        scalar_t* __restrict__ d, long long total, long long T) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) return;
    const long long t = index % T;
    const long long q = index / T;
    const scalar_t value = (n1[q] + n2[t]) - 2 * d[index];
    d[index] = value > 0 ? value : (scalar_t)0;
}

// l1_distances: d[q, t] = sum over i of |x1[q, i] - x2[t, i]|.
// One thread per element of d, in square tiles: block (bx, by) computes the
// L1_TILE x L1_TILE tile of d whose rows start at q0 = by * L1_TILE and columns at
// t0 = bx * L1_TILE; thread (ty, tx) computes d[q0 + ty, t0 + tx] (threadIdx.x is the
// fastest index, so a warp writes consecutive t: coalesced stores).
//
// Why tiles: every value of x1[q] is needed by T threads and every value of x2[t] by Q
// threads. The block walks the features in chunks of L1_TILE: each thread copies ONE
// value of the x1 tile (rows q0.., features i0..) and ONE of the x2 tile (rows t0..)
// into shared memory, the block waits at __syncthreads(), then each thread adds the
// L1_TILE terms |a - b| of its (q, t) pair from shared memory, and the block waits again
// before the next chunk overwrites the tiles. Each global value is thus read once per
// tile instead of once per thread: L1_TILE times less memory traffic. A thread adds its
// terms in the order i = 0, 1, ..., D-1 (Numba lets LLVM reorder them). Threads outside d
// (the last tiles of a ragged Q or T) still load (zeros) and reach every barrier, since
// all threads of a block must meet at each __syncthreads(); they only skip the store.
extern "C" __global__ void l1_distances(const scalar_t* __restrict__ x1, const scalar_t* __restrict__ x2,
                                        scalar_t* __restrict__ d, long long Q, long long T, long long D) {
    // [row in tile][feature in chunk]. The + 1 column: the reads x2_tile[tx][j] of a
    // warp's threads are L1_TILE + 1 values apart, so they fall in different banks.
    __shared__ scalar_t x1_tile[L1_TILE][L1_TILE + 1];
    __shared__ scalar_t x2_tile[L1_TILE][L1_TILE + 1];

    const int ty = threadIdx.y;
    const int tx = threadIdx.x;
    const long long q0 = (long long)blockIdx.y * L1_TILE;
    const long long t0 = (long long)blockIdx.x * L1_TILE;
    const long long q = q0 + ty;
    const long long t = t0 + tx;

    scalar_t acc = 0;
    for (long long i0 = 0; i0 < D; i0 += L1_TILE) {
        // Thread (ty, tx) loads feature i0 + tx of row q0 + ty of x1 and of row t0 + ty
        // of x2: consecutive threads read consecutive features (coalesced loads).
        const long long i = i0 + tx;
        x1_tile[ty][tx] = (q0 + ty < Q && i < D) ? x1[(q0 + ty) * D + i] : (scalar_t)0;
        x2_tile[ty][tx] = (t0 + ty < T && i < D) ? x2[(t0 + ty) * D + i] : (scalar_t)0;
        __syncthreads();

        // Features past D were loaded as zeros on both sides: they add |0 - 0| = 0.
        for (int j = 0; j < L1_TILE; ++j) {
            acc += fabs(x1_tile[ty][j] - x2_tile[tx][j]);
        }
        __syncthreads();
    }
    if (q < Q && t < T) {
        d[q * T + t] = acc;
    }
}
