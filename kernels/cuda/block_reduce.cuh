// Block reductions: the sum or the maximum of one value per thread, returned to every
// thread of the block. Shared by the kernels that reduce a row, a group or a channel in
// one block (batch_norm.cu, layer_norm.cu, group_norm.cu, softmax.cu), which include it
// with #include "block_reduce.cuh" (the launcher pastes it in for both executors).
//
// The standard two-level pattern:
//   1. inside each warp of 32 threads, a butterfly of warp shuffles: at each step every
//      lane adds the value of the lane `offset` away (__shfl_xor_sync, offset 16, 8, 4,
//      2, 1), so after five steps every lane holds the warp's total, without shared
//      memory or barriers (the 32 lanes exchange registers);
//   2. lane 0 of each warp writes its warp's total to partials[warp] in shared memory,
//      __syncthreads(), and every warp reduces the blockDim.x / 32 partials the same way
//      (the same values in the same order, so every thread gets the same total).
// A last __syncthreads() lets the caller reuse `partials` for its next reduction.
//
// Preconditions: every thread of the block calls it (it contains barriers and shuffles
// over full warps), blockDim.x is a multiple of 32 and at most 1024, and `partials` is a
// __shared__ array of at least 32 elements.

#define FULL_WARP 0xffffffffu

template <typename T>
__device__ T warp_sum(T value) {
    for (int offset = warpSize / 2; offset > 0; offset /= 2) value += __shfl_xor_sync(FULL_WARP, value, offset);
    return value;
}

// The larger of the two by `>`, so that a NaN never replaces a number, as in the row
// maxima of the Numba and NumPy kernels (x > m ? x : m).
template <typename T>
__device__ T warp_max(T value) {
    for (int offset = warpSize / 2; offset > 0; offset /= 2) {
        const T other = __shfl_xor_sync(FULL_WARP, value, offset);
        if (other > value) value = other;
    }
    return value;
}

template <typename T>
__device__ T block_sum(T value, T* partials) {
    const int lane = threadIdx.x % warpSize;
    const int warp = threadIdx.x / warpSize;
    const int warps = blockDim.x / warpSize;
    value = warp_sum(value);
    if (lane == 0) partials[warp] = value;
    __syncthreads();
    value = lane < warps ? partials[lane] : (T)0;
    value = warp_sum(value);
    __syncthreads();
    return value;
}

template <typename T>
__device__ T block_max(T value, T* partials) {
    const int lane = threadIdx.x % warpSize;
    const int warp = threadIdx.x / warpSize;
    const int warps = blockDim.x / warpSize;
    value = warp_max(value);
    if (lane == 0) partials[warp] = value;
    __syncthreads();
    value = partials[lane < warps ? lane : 0];  // a repeat changes no maximum
    value = warp_max(value);
    __syncthreads();
    return value;
}
