// Activation kernels: relu and its backward, one thread per element.
//
// The formulas are those of kernels/reference/activation.py; read its docstring first.
// The arrays are contiguous and read as flat arrays of `total` elements.
// scalar_t is float or double (the launcher builds this file once for each).

// relu:
//     y[i] = x[i] <= 0 ? 0 : x[i]
// written with <= so that a NaN (for which every comparison is false) stays NaN.
// One thread per element: i = blockIdx.x * blockDim.x + threadIdx.x computes y[i].
extern "C" __global__ void relu(const scalar_t* __restrict__ x, scalar_t* __restrict__ y, long long total) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const scalar_t value = x[i];
    y[i] = value <= (scalar_t)0 ? (scalar_t)0 : value;
}

// relu_backward:
//     dx[i] = out[i] > 0 ? grad[i] : 0      (out = relu(x); a select, not grad * mask)
// One thread per element: i = blockIdx.x * blockDim.x + threadIdx.x computes dx[i].
extern "C" __global__ void relu_backward(const scalar_t* __restrict__ grad, const scalar_t* __restrict__ out,
                                         scalar_t* __restrict__ dx, long long total) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    dx[i] = out[i] > (scalar_t)0 ? grad[i] : (scalar_t)0;
}
