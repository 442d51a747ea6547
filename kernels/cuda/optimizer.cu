// Optimizer kernels: PyTorch's SGD update, one thread per element.
//
// The formulas are those of kernels/reference/optimizer.py; read its docstring first.
// param and buffer are updated in place (the wrapper checks that they are contiguous);
// the scalars come in scalar_t, float or double (the launcher builds this file once for
// each). nvcc may fuse a multiply and an add into one FMA (one rounding instead of two),
// so float results can differ from the reference in the last bit.

// sgd_step:
//     g = maximize ? -grad[i] : grad[i];   g += weight_decay * param[i]   (if weight_decay != 0)
//     momentum != 0:  b = first_step ? g : momentum * buffer[i] + undamped * g;   buffer[i] = b;
//                     g = nesterov ? g + momentum * b : b
//     param[i] -= lr * g                  (undamped = 1 - dampening, computed by the wrapper)
// One thread per element: i = blockIdx.x * blockDim.x + threadIdx.x updates param[i] and
// buffer[i].
extern "C" __global__ void sgd_step(scalar_t* __restrict__ param, const scalar_t* __restrict__ grad,
                                    scalar_t* __restrict__ buffer, scalar_t lr, scalar_t momentum, scalar_t undamped,
                                    scalar_t weight_decay, int nesterov, int maximize, int first_step,
                                    long long total) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    scalar_t g = maximize ? -grad[i] : grad[i];
    if (weight_decay != (scalar_t)0) g = g + weight_decay * param[i];
    if (momentum != (scalar_t)0) {
        const scalar_t b = first_step ? g : momentum * buffer[i] + undamped * g;
        buffer[i] = b;
        g = nesterov ? g + momentum * b : b;
    }
    param[i] = param[i] - lr * g;
}
