// Small kernels that check the launcher and the CPU emulation of CUDA semantics.
// Each one is valid CUDA: tests/kernels/test_cuda_sources.py compiles this file with
// nvcc too, so what the emulation is checked on is code a GPU would run.

// Every parameter type the launcher knows, summed into out[0].
extern "C" __global__ void all_types(const scalar_t* a, const float* f, const double* d, const int* i,
                                     const long long* ll, const unsigned char* u8, const bool* b, scalar_t* out, int n,
                                     long long m, float alpha, double beta, scalar_t gamma, unsigned int u, bool flag) {
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        out[0] = (scalar_t)(a[0] + f[0] + d[0] + i[0] + ll[0] + u8[0] + b[0] + n + m + alpha + beta + gamma + u + flag);
    }
}

// out[i] = 2 * x[i] + 1, one thread per element.
extern "C" __global__ void affine(const scalar_t* __restrict__ x, scalar_t* __restrict__ out, long long total) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    out[i] = 2 * x[i] + 1;
}

// Each block reverses its own segment of x through static shared memory: correct only
// if shared memory is shared by the threads of a block and __syncthreads() orders the
// writes before the reads.
#define REVERSE_BLOCK 128
extern "C" __global__ void reverse_in_block(const scalar_t* x, scalar_t* out) {
    __shared__ scalar_t segment[REVERSE_BLOCK];
    const int t = threadIdx.x;
    const long long i = (long long)blockIdx.x * blockDim.x + t;
    segment[t] = x[i];
    __syncthreads();
    out[i] = segment[blockDim.x - 1 - t];
}

// Shared memory is private to a block: every block fills it with its own number, then
// its threads read it back many times across barriers while other blocks run. Any
// value that is not this block's counts as a leak in *leaks.
extern "C" __global__ void shared_privacy(unsigned int* leaks) {
    __shared__ int owner[REVERSE_BLOCK];
    const int t = threadIdx.x;
    for (int round = 0; round < 20; ++round) {
        owner[t] = blockIdx.x * 1000 + round;
        __syncthreads();
        for (int k = 0; k < blockDim.x; ++k)
            if (owner[k] != (int)blockIdx.x * 1000 + round) atomicAdd(leaks, 1u);
        __syncthreads();
    }
}

// A barrier that thread 3 of every block never reaches (it returned): undefined
// behaviour on a GPU, an error in the emulation.
extern "C" __global__ void early_return_barrier(scalar_t* out) {
    if (threadIdx.x == 3) return;
    __syncthreads();
    out[threadIdx.x] = 1;
}

// Odd and even threads wait at two different barriers.
extern "C" __global__ void split_barrier(scalar_t* out) {
    if (threadIdx.x % 2 == 1) {
        out[threadIdx.x] = 1;
        __syncthreads();
    } else {
        __syncthreads();
        out[threadIdx.x] = 2;
    }
}

// Every thread of every block adds to a few bins: atomics under contention across
// blocks, which run at the same time on several workers. Every addend is exact in its
// type, so the expected bins are exact.
extern "C" __global__ void atomic_bins(int* int_bins, unsigned int* uint_bins, unsigned long long* ull_bins,
                                       float* float_bins, double* double_bins, int bins, long long total) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int b = (int)(i % bins);
    atomicAdd(&int_bins[b], 1);
    atomicAdd(&uint_bins[b], 2u);
    atomicAdd(&ull_bins[b], 3ull);
    atomicAdd(&float_bins[b], 0.5f);
    atomicAdd(&double_bins[b], 0.25);
}

// The warp shuffle, per warp of 32 lanes: out[i] = sum of the warp's x by a
// __shfl_xor_sync butterfly (every lane gets it), the first half of block_reduce.cuh.
extern "C" __global__ void warp_butterfly(const scalar_t* x, scalar_t* out, long long total) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    scalar_t butterfly = x[i];
    for (int mask = 16; mask > 0; mask /= 2) butterfly += __shfl_xor_sync(0xffffffffu, butterfly, mask);
    out[i] = butterfly;
}

// Lane 0 shuffles with a mask that leaves out lane 1, which shuffles with the full mask.
extern "C" __global__ void mismatched_masks(scalar_t* out) {
    const unsigned mask = threadIdx.x == 0 ? 0xfffffffdu : 0xffffffffu;
    out[threadIdx.x] = __shfl_xor_sync(mask, (scalar_t)threadIdx.x, 2);
}

// 3-D grids and blocks: each thread writes its coordinates where its linear index says.
extern "C" __global__ void coordinates(int* out) {
    const long long block = blockIdx.x + (long long)gridDim.x * (blockIdx.y + (long long)gridDim.y * blockIdx.z);
    const int thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    const long long i = block * (blockDim.x * blockDim.y * blockDim.z) + thread;
    out[6 * i + 0] = blockIdx.x;
    out[6 * i + 1] = blockIdx.y;
    out[6 * i + 2] = blockIdx.z;
    out[6 * i + 3] = threadIdx.x;
    out[6 * i + 4] = threadIdx.y;
    out[6 * i + 5] = threadIdx.z;
}

// A device function that synchronizes, called from a kernel: the launcher must see
// through the call that the kernel needs its threads to run together.
__device__ scalar_t neighbour_through_shared(scalar_t value) {
    __shared__ scalar_t slots[REVERSE_BLOCK];
    slots[threadIdx.x] = value;
    __syncthreads();
    return slots[(threadIdx.x + 1) % blockDim.x];
}

extern "C" __global__ void rotate_in_block(const scalar_t* x, scalar_t* out) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    out[i] = neighbour_through_shared(x[i]);
}

// Math functions of both precisions against NumPy.
extern "C" __global__ void math_functions(const scalar_t* x, scalar_t* out, long long total) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const scalar_t v = x[i];
    out[0 * total + i] = exp(v);
    out[1 * total + i] = log(v);
    out[2 * total + i] = sqrt(v);
    out[3 * total + i] = rsqrt(v);
    out[4 * total + i] = tanh(v);
    out[5 * total + i] = erf(v);
    out[6 * total + i] = pow(v, (scalar_t)1.5);
    out[7 * total + i] = fmax(v, (scalar_t)1) + fmin(v, (scalar_t)1);
    out[8 * total + i] = (scalar_t)expf((float)v) + (scalar_t)logf((float)v) + (scalar_t)fabsf(-(float)v);
    out[9 * total + i] = max(v, (scalar_t)0.5) + (v < INFINITY ? 0 : 1);
}
