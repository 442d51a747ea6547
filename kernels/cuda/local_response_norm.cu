// Local response normalization (AlexNet): forward and input gradient.
//
// The formulas are those of kernels/reference/local_response_norm.py; read its
// docstrings first. Layout (contiguous): x[(n * C + c) * S + s], S = product of the
// spatial dims. scalar_t is float or double (the launcher builds this file once for
// each). The scalar parameters alpha, beta, k arrive as scalar_t and are used in double;
// the window sums run in double.

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
