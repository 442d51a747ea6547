// Pooling kernels in CUDA C: the GPU implementation of the "pool" family.
//
// The formulas, the index layout (argmax = ih*W + iw inside the (n, c) plane) and the
// tie rule (first maximum in kh-major scan order, NaN wins) are those of
// kernels/reference/pool.py. Notation: N C H W, OH OW, KH KW, SH SW, PH PW, DH DW;
// plane = n*C + c, and every array is a C-contiguous stack of planes.
//
// Thread mapping: ONE THREAD PER ELEMENT OF THE ARRAY BEING WRITTEN.
//   forward kernels:  one thread per output element; index -> (plane, oh, ow)
//                     decoded as ow = index % OW, oh = (index / OW) % OH,
//                     plane = index / (OH*OW): the order of the Numba loops.
//   backward kernels: one thread per INPUT element (index -> plane, ih, iw), which
//                     GATHERS the gradient of every output window that covers it.
//                     Overlapping windows (AlexNet's 3x3/2) make several outputs
//                     route into one input; a gather sums them in a fixed order
//                     without atomics, so the result is deterministic, and every
//                     thread writes exactly one element. (The Numba kernels scatter
//                     instead: one CPU thread owns a whole plane, so they cannot race.)
//
// scalar_t is float or double (the launcher builds this file once for each). Indices
// are long long (int64, PyTorch's index dtype); element counts are long long.
// Booleans arrive as int. Every thread returns at once when index >= total.

// ---------------------------------------------------------------- helpers

// Divisor of average-pooling window (oh, ow), PyTorch's rule: the window clipped to
// the padded image (count_include_pad) or to the image (not count_include_pad),
// unless divisor_override != 0. Twin of _avg_pool_divisor in kernels/cpu/pool.py.
__device__ int avg_pool_divisor(int oh, int ow, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW,
                                int count_include_pad, int divisor_override) {
    int hstart = oh * SH - PH;
    int wstart = ow * SW - PW;
    int hend = min(hstart + KH, H + PH);
    int wend = min(wstart + KW, W + PW);
    if (divisor_override != 0) {
        return divisor_override;
    }
    if (count_include_pad) {
        return (hend - hstart) * (wend - wstart);
    }
    return (min(hend, H) - max(hstart, 0)) * (min(wend, W) - max(wstart, 0));
}

// Adaptive bin o of an axis of length size cut into out_size bins:
// [floor(o*size/out_size), ceil((o+1)*size/out_size)).
// With the roles of size and out_size swapped, the same two functions give the
// range of bins that contain input position o (used by the backward gathers).
__device__ int adaptive_start(int o, int size, int out_size) {
    return (o * size) / out_size;
}

__device__ int adaptive_end(int o, int size, int out_size) {
    return ((o + 1) * size + out_size - 1) / out_size;
}

// source_index: the output position o whose window starts at o*S - P and whose tap k
// (dilation D) lands on input position i, or -1 when there is none in [0, O): o*S - P +
// k*D == i gives o = (i + P - k*D) / S when the division is exact. The same helper as
// conv.cu's (a window tap is a convolution tap).
__device__ int source_index(int i, int k, int S, int P, int D, int O) {
    const int o_stride = i + P - k * D;
    if (o_stride < 0 || o_stride % S != 0) {
        return -1;
    }
    const int o = o_stride / S;
    return o < O ? o : -1;
}

// ------------------------------------------------------------ max pooling

// out[plane, oh, ow] = max of the window's in-bounds taps; argmax = ih*W + iw of the
// first maximum. One thread per output element. A window that covers no input
// element (dilation on a tiny image) writes neg_inf (-inf, passed by the wrapper)
// and index -1.
extern "C" __global__ void max_pool2d_forward(const scalar_t* __restrict__ x, scalar_t* __restrict__ out,
                                              long long* __restrict__ argmax, long long total, int H, int W, int OH,
                                              int OW, int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW,
                                              scalar_t neg_inf) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    int ow = (int)(index % OW);
    int oh = (int)((index / OW) % OH);
    long long plane = index / ((long long)OH * OW);
    const scalar_t* x_plane = x + plane * H * W;

    int hstart = oh * SH - PH;
    int wstart = ow * SW - PW;
    scalar_t best = neg_inf;
    long long best_index = -1;
    for (int kh = 0; kh < KH; ++kh) {
        int ih = hstart + kh * DH;
        if (ih < 0 || ih >= H) {
            continue;
        }
        for (int kw = 0; kw < KW; ++kw) {
            int iw = wstart + kw * DW;
            if (iw < 0 || iw >= W) {
                continue;
            }
            scalar_t val = x_plane[ih * W + iw];
            if (best_index < 0 || val > best || val != val) {
                best = val;
                best_index = (long long)ih * W + iw;
            }
        }
    }
    out[index] = best;
    argmax[index] = best_index;
}

// grad_x[plane, ih, iw] = sum of grad_out[plane, oh, ow] over the windows that cover
// (ih, iw) and whose argmax is ih*W + iw. One thread per input element; for every
// tap (kh, kw) at most one window puts that tap on (ih, iw) (source_index).
extern "C" __global__ void max_pool2d_backward(const scalar_t* __restrict__ grad_out,
                                               const long long* __restrict__ argmax, scalar_t* __restrict__ grad_x,
                                               long long total, int H, int W, int OH, int OW, int KH, int KW, int SH,
                                               int SW, int PH, int PW, int DH, int DW) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    int iw = (int)(index % W);
    int ih = (int)((index / W) % H);
    long long plane = index / ((long long)H * W);
    const scalar_t* grad_plane = grad_out + plane * OH * OW;
    const long long* argmax_plane = argmax + plane * OH * OW;

    long long target = (long long)ih * W + iw;
    scalar_t sum = 0;
    for (int kh = 0; kh < KH; ++kh) {
        int oh = source_index(ih, kh, SH, PH, DH, OH);
        if (oh < 0) {
            continue;
        }
        for (int kw = 0; kw < KW; ++kw) {
            int ow = source_index(iw, kw, SW, PW, DW, OW);
            if (ow < 0) {
                continue;
            }
            if (argmax_plane[oh * OW + ow] == target) {
                sum += grad_plane[oh * OW + ow];
            }
        }
    }
    grad_x[index] = sum;
}

// -------------------------------------------------------- average pooling

// out[plane, oh, ow] = (sum of the window's in-bounds taps) / avg_pool_divisor.
// One thread per output element.
extern "C" __global__ void avg_pool2d_forward(const scalar_t* __restrict__ x, scalar_t* __restrict__ out,
                                              long long total, int H, int W, int OH, int OW, int KH, int KW, int SH,
                                              int SW, int PH, int PW, int count_include_pad, int divisor_override) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    int ow = (int)(index % OW);
    int oh = (int)((index / OW) % OH);
    long long plane = index / ((long long)OH * OW);
    const scalar_t* x_plane = x + plane * H * W;

    int hstart = max(oh * SH - PH, 0);
    int wstart = max(ow * SW - PW, 0);
    int hend = min(oh * SH - PH + KH, H);
    int wend = min(ow * SW - PW + KW, W);
    scalar_t sum = 0;
    for (int ih = hstart; ih < hend; ++ih) {
        for (int iw = wstart; iw < wend; ++iw) {
            sum += x_plane[ih * W + iw];
        }
    }
    int divisor = avg_pool_divisor(oh, ow, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override);
    out[index] = sum / (scalar_t)divisor;
}

// grad_x[plane, ih, iw] = sum over the windows (oh, ow) covering (ih, iw) of
// grad_out[plane, oh, ow] / avg_pool_divisor(oh, ow). One thread per input element.
extern "C" __global__ void avg_pool2d_backward(const scalar_t* __restrict__ grad_out, scalar_t* __restrict__ grad_x,
                                               long long total, int H, int W, int OH, int OW, int KH, int KW, int SH,
                                               int SW, int PH, int PW, int count_include_pad, int divisor_override) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    int iw = (int)(index % W);
    int ih = (int)((index / W) % H);
    long long plane = index / ((long long)H * W);
    const scalar_t* grad_plane = grad_out + plane * OH * OW;

    scalar_t sum = 0;
    for (int kh = 0; kh < KH; ++kh) {
        int oh = source_index(ih, kh, SH, PH, 1, OH);
        if (oh < 0) {
            continue;
        }
        for (int kw = 0; kw < KW; ++kw) {
            int ow = source_index(iw, kw, SW, PW, 1, OW);
            if (ow < 0) {
                continue;
            }
            int divisor = avg_pool_divisor(oh, ow, H, W, KH, KW, SH, SW, PH, PW, count_include_pad, divisor_override);
            sum += grad_plane[oh * OW + ow] / (scalar_t)divisor;
        }
    }
    grad_x[index] = sum;
}

// ------------------------------------------------------- adaptive pooling

// out[plane, oh, ow] = mean of bin (oh, ow). One thread per output element.
extern "C" __global__ void adaptive_avg_pool2d_forward(const scalar_t* __restrict__ x, scalar_t* __restrict__ out,
                                                       long long total, int H, int W, int OH, int OW) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    int ow = (int)(index % OW);
    int oh = (int)((index / OW) % OH);
    long long plane = index / ((long long)OH * OW);
    const scalar_t* x_plane = x + plane * H * W;

    int hstart = adaptive_start(oh, H, OH);
    int hend = adaptive_end(oh, H, OH);
    int wstart = adaptive_start(ow, W, OW);
    int wend = adaptive_end(ow, W, OW);
    scalar_t sum = 0;
    for (int ih = hstart; ih < hend; ++ih) {
        for (int iw = wstart; iw < wend; ++iw) {
            sum += x_plane[ih * W + iw];
        }
    }
    out[index] = sum / (scalar_t)((hend - hstart) * (wend - wstart));
}

// grad_x[plane, ih, iw] = sum over the bins containing (ih, iw) of
// grad_out[plane, oh, ow] / (bin area). Those bins are oh in
// [adaptive_start(ih, OH, H), adaptive_end(ih, OH, H)) (and the same for ow): the
// bin formulas with input and output swapped. One thread per input element.
extern "C" __global__ void adaptive_avg_pool2d_backward(const scalar_t* __restrict__ grad_out,
                                                        scalar_t* __restrict__ grad_x, long long total, int H, int W,
                                                        int OH, int OW) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    int iw = (int)(index % W);
    int ih = (int)((index / W) % H);
    long long plane = index / ((long long)H * W);
    const scalar_t* grad_plane = grad_out + plane * OH * OW;

    scalar_t sum = 0;
    for (int oh = adaptive_start(ih, OH, H); oh < adaptive_end(ih, OH, H); ++oh) {
        int bin_h = adaptive_end(oh, H, OH) - adaptive_start(oh, H, OH);
        for (int ow = adaptive_start(iw, OW, W); ow < adaptive_end(iw, OW, W); ++ow) {
            int bin_w = adaptive_end(ow, W, OW) - adaptive_start(ow, W, OW);
            sum += grad_plane[oh * OW + ow] / (scalar_t)(bin_h * bin_w);
        }
    }
    grad_x[index] = sum;
}

// out = max of bin (oh, ow), argmax = ih*W + iw of its first maximum (NaN wins).
// One thread per output element. A bin is never empty.
extern "C" __global__ void adaptive_max_pool2d_forward(const scalar_t* __restrict__ x, scalar_t* __restrict__ out,
                                                       long long* __restrict__ argmax, long long total, int H, int W,
                                                       int OH, int OW) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    int ow = (int)(index % OW);
    int oh = (int)((index / OW) % OH);
    long long plane = index / ((long long)OH * OW);
    const scalar_t* x_plane = x + plane * H * W;

    int hstart = adaptive_start(oh, H, OH);
    int hend = adaptive_end(oh, H, OH);
    int wstart = adaptive_start(ow, W, OW);
    int wend = adaptive_end(ow, W, OW);
    scalar_t best = x_plane[hstart * W + wstart];
    long long best_index = (long long)hstart * W + wstart;
    for (int ih = hstart; ih < hend; ++ih) {
        for (int iw = wstart; iw < wend; ++iw) {
            scalar_t val = x_plane[ih * W + iw];
            if (val > best || val != val) {
                best = val;
                best_index = (long long)ih * W + iw;
            }
        }
    }
    out[index] = best;
    argmax[index] = best_index;
}

// grad_x[plane, ih, iw] = sum of grad_out over the bins containing (ih, iw) whose
// argmax is ih*W + iw. One thread per input element.
extern "C" __global__ void adaptive_max_pool2d_backward(const scalar_t* __restrict__ grad_out,
                                                        const long long* __restrict__ argmax,
                                                        scalar_t* __restrict__ grad_x, long long total, int H, int W,
                                                        int OH, int OW) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    int iw = (int)(index % W);
    int ih = (int)((index / W) % H);
    long long plane = index / ((long long)H * W);
    const scalar_t* grad_plane = grad_out + plane * OH * OW;
    const long long* argmax_plane = argmax + plane * OH * OW;

    long long target = (long long)ih * W + iw;
    scalar_t sum = 0;
    for (int oh = adaptive_start(ih, OH, H); oh < adaptive_end(ih, OH, H); ++oh) {
        for (int ow = adaptive_start(iw, OW, W); ow < adaptive_end(iw, OW, W); ++ow) {
            if (argmax_plane[oh * OW + ow] == target) {
                sum += grad_plane[oh * OW + ow];
            }
        }
    }
    grad_x[index] = sum;
}

// -------------------------------------------------------------- unpooling

// out[plane].flat[indices[plane, i, j]] = x[plane, i, j]; out must be zeroed by the
// caller. One thread per INPUT element (IH x IW per plane), a scatter without
// atomics: two entries that share an index write the same address, and which one
// wins is unspecified (after an overlapping max_pool2d they hold the same value).
// Indices outside [0, OH*OW) are skipped (the op rejects them before any launch).
extern "C" __global__ void max_unpool2d_forward(const scalar_t* __restrict__ x, const long long* __restrict__ indices,
                                                scalar_t* __restrict__ out, long long total, int IH, int IW, int OH,
                                                int OW) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    long long plane = index / ((long long)IH * IW);
    long long target = indices[index];
    if (target < 0 || target >= (long long)OH * OW) {
        return;
    }
    out[plane * OH * OW + target] = x[index];
}

// grad_x[plane, i, j] = grad_out[plane].flat[indices[plane, i, j]]: a gather, one
// thread per input element.
extern "C" __global__ void max_unpool2d_backward(const scalar_t* __restrict__ grad_out,
                                                 const long long* __restrict__ indices, scalar_t* __restrict__ grad_x,
                                                 long long total, int IH, int IW, int OH, int OW) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    long long plane = index / ((long long)IH * IW);
    long long target = indices[index];
    if (target < 0 || target >= (long long)OH * OW) {
        grad_x[index] = 0;
        return;
    }
    grad_x[index] = grad_out[plane * OH * OW + target];
}
