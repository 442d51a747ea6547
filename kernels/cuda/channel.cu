// Per-channel operations on NCHW arrays (batch norm's statistics and its affine step).
//
// x has shape (N, C, HW...): the trailing dims are flattened into HW, so (N, C),
// (N, C, L) and (N, C, H, W) are all served. Element (n, c, i) is at
//     x[(n * C + c) * HW + i].
// scalar_t is float or double (the launcher builds this file once for each).

// Threads per block of channel_sums: a power of 2 (the tree reduction halves it), and the
// size of its shared arrays. The launch wrapper passes block = (CHANNEL_SUMS_BLOCK,).
#define CHANNEL_SUMS_BLOCK 256

// channel_sums: the block reduction.
//     sums[c]            = sum over n, i of (x[n, c, i] - shift[c])
//     sums_of_squares[c] = sum over n, i of (x[n, c, i] - shift[c])^2
// One block per channel: c = blockIdx.x. The block's CHANNEL_SUMS_BLOCK threads split
// the N * HW elements of channel c: thread t takes elements j = t, t + blockDim.x, ...
// of the channel, where j enumerates (n, i) as j = n * HW + i. Each thread keeps two
// partial sums; then the block adds its threads' partial sums up in shared memory, as
// a tree: at each step the first half of the threads add the second half's values to
// their own, and __syncthreads() makes every write of a step visible before the next.
//
// The sums accumulate in double for both builds: with float, each thread's running sum
// over N * HW / 256 elements would lose digits on large images, and the kernel is
// limited by memory bandwidth, so the double additions cost nothing measurable.
// Subtracting shift (the mean, in batch norm's second pass) keeps the variance
// sum((x - mean)^2) accurate where sum(x^2) - N * mean^2 would cancel catastrophically.
extern "C" __global__ void channel_sums(const scalar_t* __restrict__ x, const scalar_t* __restrict__ shift,
                                        scalar_t* __restrict__ sums, scalar_t* __restrict__ sums_of_squares,
                                        long long N, int C, long long HW) {
    __shared__ double partial_sums[CHANNEL_SUMS_BLOCK];
    __shared__ double partial_squares[CHANNEL_SUMS_BLOCK];

    const int c = blockIdx.x;
    const int t = threadIdx.x;
    const double s = (double)shift[c];

    double sum = 0.0;
    double sum_of_squares = 0.0;
    for (long long j = t; j < N * HW; j += blockDim.x) {
        const long long n = j / HW;
        const long long i = j - n * HW;
        const double d = (double)x[(n * C + c) * HW + i] - s;
        sum += d;
        sum_of_squares += d * d;
    }
    partial_sums[t] = sum;
    partial_squares[t] = sum_of_squares;
    __syncthreads();

    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (t < stride) {
            partial_sums[t] += partial_sums[t + stride];
            partial_squares[t] += partial_squares[t + stride];
        }
        __syncthreads();
    }

    if (t == 0) {
        sums[c] = (scalar_t)partial_sums[0];
        sums_of_squares[c] = (scalar_t)partial_squares[0];
    }
}

// channel_scale_shift: the elementwise kernel.
//     y[n, c, i] = x[n, c, i] * scale[c] + shift[c]
// One thread per element of y: thread `index` = blockIdx.x * blockDim.x + threadIdx.x
// computes y[index]. Its channel is decoded from the linear index: index = (n * C + c)
// * HW + i, so index / HW = n * C + c, and c = (index / HW) % C.
extern "C" __global__ void channel_scale_shift(const scalar_t* __restrict__ x, const scalar_t* __restrict__ scale,
                                               const scalar_t* __restrict__ shift, scalar_t* __restrict__ y,
                                               long long total, int C, long long HW) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) return;
    const int c = (int)((index / HW) % C);
    y[index] = x[index] * scale[c] + shift[c];
}
