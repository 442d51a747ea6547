// Kernels that break the rules on purpose, for the launcher's block checks and the
// bounds-checking build of the emulation (tests/kernels/runtime/test_cuda_memcheck.py).
// Each one is valid CUDA (tests/kernels/test_cuda_sources.py compiles it with nvcc).

// out[i] = x[i + shift]: reads past either end of x when shift moves i out of it.
extern "C" __global__ void shifted_copy(const scalar_t* __restrict__ x, scalar_t* __restrict__ out, long long total,
                                        long long shift) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    out[i] = x[i + shift];
}

// out[i + shift] = 1: writes outside out.
extern "C" __global__ void shifted_fill(scalar_t* __restrict__ out, long long total, long long shift) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    out[i + shift] = 1;
}

// A read through a device function and a local pointer variable.
__device__ scalar_t read_row(const scalar_t* row, int column) {
    return row[column];
}

extern "C" __global__ void row_reader(const scalar_t* __restrict__ x, scalar_t* __restrict__ out, int rows, int columns,
                                      int column) {
    const int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    const scalar_t* row = x + (long long)r * columns;
    out[r] = read_row(row, column);
}

// A block reduction through shared memory (a template helper taking a shared pointer,
// as block_reduce.cuh does) followed by an atomic update of a global counter.
template <typename T>
__device__ T first_of_block(T value, T* slot) {
    if (threadIdx.x == 0) *slot = value;
    __syncthreads();
    return *slot;
}

extern "C" __global__ void block_firsts(const scalar_t* __restrict__ x, unsigned int* count, scalar_t* out) {
    __shared__ scalar_t slot;
    const scalar_t first = first_of_block(x[blockIdx.x * blockDim.x + threadIdx.x], &slot);
    if (threadIdx.x == 0) {
        out[blockIdx.x] = first;
        atomicAdd(count + blockIdx.x, 1u);
    }
}

// Block-size declarations the launcher enforces.
extern "C" __global__ void __launch_bounds__(64) at_most_64(scalar_t* out) {
    out[threadIdx.x] = 1;
}

#define SIDE (sizeof(scalar_t) == 4 ? 8 : 4)
extern "C" __global__ void EXACT_BLOCK_SIZE(SIDE* SIDE) exactly_side_squared(scalar_t* out) {
    out[threadIdx.x] = 1;
}

extern "C" __global__ void warp_total(const scalar_t* __restrict__ x, scalar_t* __restrict__ out) {
    scalar_t value = x[threadIdx.x];
    for (int offset = 16; offset > 0; offset /= 2) value += __shfl_xor_sync(0xffffffffu, value, offset);
    out[threadIdx.x] = value;
}

// out[t] = t / divisor: an integer division by zero when divisor is 0 (SIGFPE on the
// host CPU); the second kernel divides between two barriers (the fiber path).
extern "C" __global__ void divide(int* out, int divisor) {
    out[threadIdx.x] = (int)threadIdx.x / divisor;
}

extern "C" __global__ void divide_between_barriers(int* out, int divisor) {
    __syncthreads();
    out[threadIdx.x] = (int)threadIdx.x / divisor;
    __syncthreads();
}
