// Resampling kernels in CUDA C: the GPU implementation of the "resample" family.
//
// The source-index rules (PyTorch's legacy "nearest" in float32 with its OH == H and
// OH == 2H shortcuts; "bilinear" with align_corners True/False) are stated in
// kernels/reference/resample.py. Notation: N C H W, OH OW; plane = n*C + c, and
// every array is a C-contiguous stack of planes. nearest_source, linear_source,
// cubic_source and cubic_weights are line-for-line twins of the Numba helpers of the
// same names (with Python's leading underscore) in kernels/cpu/resample.py.
//
// Thread mapping: ONE THREAD PER ELEMENT OF THE ARRAY BEING WRITTEN.
//   forward kernels:  one thread per output element; index -> (plane, oh, ow)
//                     decoded as ow = index % OW, oh = (index / OW) % OH,
//                     plane = index / (OH*OW).
//   backward kernels: one thread per INPUT element (plane, ih, iw), which GATHERS
//                     the gradient of every output that read it. The source row of
//                     output oh never decreases as oh grows, so the outputs that
//                     read row ih form one contiguous range of oh, found by binary
//                     search with the very function the forward uses (exact, no
//                     float inversion of the formula). A gather needs no atomics and
//                     sums in a fixed order, so the gradient is deterministic.
//
// scalar_t is float or double (the launcher builds this file once for each);
// booleans arrive as int; the nearest scale is a float, as in PyTorch.

// ---------------------------------------------------------------- nearest

// Source row of output row oh: min(floor(float(oh) * scale), H - 1), with PyTorch's
// CPU shortcuts (a copy when OH == H, oh / 2 when OH == 2H). The product is
// non-negative, so truncation is floor.
__device__ int nearest_source(int oh, int H, int OH, float scale) {
    if (OH == H) {
        return oh;
    }
    if (OH == 2 * H) {
        return oh / 2;
    }
    int src = (int)((float)oh * scale);
    return min(src, H - 1);
}

// The first output row o in [0, OH] with nearest_source(o) >= target (OH if none).
__device__ int first_nearest_at_least(int target, int H, int OH, float scale) {
    int lo = 0;
    int hi = OH;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (nearest_source(mid, H, OH, scale) >= target) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

// out[plane, oh, ow] = x[plane, src_h(oh), src_w(ow)]. One thread per output element.
extern "C" __global__ void upsample_nearest2d_forward(const scalar_t* __restrict__ x, scalar_t* __restrict__ out,
                                                      long long total, int H, int W, int OH, int OW, float scale_h,
                                                      float scale_w) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    int ow = (int)(index % OW);
    int oh = (int)((index / OW) % OH);
    long long plane = index / ((long long)OH * OW);

    int ih = nearest_source(oh, H, OH, scale_h);
    int iw = nearest_source(ow, W, OW, scale_w);
    out[index] = x[plane * H * W + ih * W + iw];
}

// grad_x[plane, ih, iw] = sum of grad_out[plane, oh, ow] over the outputs with
// src_h(oh) == ih and src_w(ow) == iw. One thread per input element.
extern "C" __global__ void upsample_nearest2d_backward(const scalar_t* __restrict__ grad_out,
                                                       scalar_t* __restrict__ grad_x, long long total, int H, int W,
                                                       int OH, int OW, float scale_h, float scale_w) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    int iw = (int)(index % W);
    int ih = (int)((index / W) % H);
    long long plane = index / ((long long)H * W);
    const scalar_t* grad_plane = grad_out + plane * OH * OW;

    int oh_begin = first_nearest_at_least(ih, H, OH, scale_h);
    int oh_end = first_nearest_at_least(ih + 1, H, OH, scale_h);
    int ow_begin = first_nearest_at_least(iw, W, OW, scale_w);
    int ow_end = first_nearest_at_least(iw + 1, W, OW, scale_w);
    scalar_t sum = 0;
    for (int oh = oh_begin; oh < oh_end; ++oh) {
        for (int ow = ow_begin; ow < ow_end; ++ow) {
            sum += grad_plane[oh * OW + ow];
        }
    }
    grad_x[index] = sum;
}

// --------------------------------------------------------------- bilinear

// The two source rows (h0, h1) of output row oh and their weights (lambda0,
// lambda1), computed in scalar_t:
//   real = scale * oh                               (align_corners)
//   real = max(scale * (oh + 0.5) - 0.5, 0)         (not align_corners)
//   h0 = min(floor(real), H - 1), h1 = h0 + (h0 < H - 1), lambda1 = clip(real - h0, 0, 1)
// and a plain copy when OH == H, as in PyTorch.
__device__ void linear_source(int oh, int H, int OH, int align_corners, scalar_t scale, int* h0, int* h1,
                              scalar_t* lambda0, scalar_t* lambda1) {
    const scalar_t zero = 0;
    const scalar_t one = 1;
    const scalar_t half = 0.5;
    if (OH == H) {
        *h0 = oh;
        *h1 = oh;
        *lambda0 = one;
        *lambda1 = zero;
        return;
    }
    scalar_t real;
    if (align_corners) {
        real = scale * (scalar_t)oh;
    } else {
        real = scale * ((scalar_t)oh + half) - half;
        real = real < zero ? zero : real;
    }
    *h0 = min((int)real, H - 1);  // real >= 0, so truncation is floor
    scalar_t l1 = real - (scalar_t)(*h0);
    l1 = l1 < zero ? zero : (l1 > one ? one : l1);
    *h1 = *h0 < H - 1 ? *h0 + 1 : *h0;
    *lambda0 = one - l1;
    *lambda1 = l1;
}

// The first output row o in [0, OH] whose h0 is >= target (OH if none).
__device__ int first_linear_at_least(int target, int H, int OH, int align_corners, scalar_t scale) {
    int lo = 0;
    int hi = OH;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int h0, h1;
        scalar_t lambda0, lambda1;
        linear_source(mid, H, OH, align_corners, scale, &h0, &h1, &lambda0, &lambda1);
        if (h0 >= target) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

// The weight with which output row oh reads input row ih (0 if it does not).
__device__ scalar_t linear_weight(int oh, int ih, int H, int OH, int align_corners, scalar_t scale) {
    int h0, h1;
    scalar_t lambda0, lambda1;
    linear_source(oh, H, OH, align_corners, scale, &h0, &h1, &lambda0, &lambda1);
    scalar_t weight = 0;
    if (h0 == ih) {
        weight += lambda0;
    }
    if (h1 == ih) {
        weight += lambda1;
    }
    return weight;
}

// out = lambda0_h * (lambda0_w * x[h0, w0] + lambda1_w * x[h0, w1])
//     + lambda1_h * (lambda0_w * x[h1, w0] + lambda1_w * x[h1, w1]).
// One thread per output element.
extern "C" __global__ void upsample_bilinear2d_forward(const scalar_t* __restrict__ x, scalar_t* __restrict__ out,
                                                       long long total, int H, int W, int OH, int OW, int align_corners,
                                                       scalar_t scale_h, scalar_t scale_w) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    int ow = (int)(index % OW);
    int oh = (int)((index / OW) % OH);
    long long plane = index / ((long long)OH * OW);
    const scalar_t* x_plane = x + plane * H * W;

    int h0, h1, w0, w1;
    scalar_t lambda0_h, lambda1_h, lambda0_w, lambda1_w;
    linear_source(oh, H, OH, align_corners, scale_h, &h0, &h1, &lambda0_h, &lambda1_h);
    linear_source(ow, W, OW, align_corners, scale_w, &w0, &w1, &lambda0_w, &lambda1_w);
    scalar_t top = lambda0_w * x_plane[h0 * W + w0] + lambda1_w * x_plane[h0 * W + w1];
    scalar_t bottom = lambda0_w * x_plane[h1 * W + w0] + lambda1_w * x_plane[h1 * W + w1];
    out[index] = lambda0_h * top + lambda1_h * bottom;
}

// grad_x[plane, ih, iw] = sum over the outputs (oh, ow) that read (ih, iw) of
// grad_out[plane, oh, ow] * weight_h(oh, ih) * weight_w(ow, iw). Those outputs have
// h0(oh) in {ih - 1, ih}: a contiguous range of oh (and the same for ow).
// One thread per input element.
extern "C" __global__ void upsample_bilinear2d_backward(const scalar_t* __restrict__ grad_out,
                                                        scalar_t* __restrict__ grad_x, long long total, int H, int W,
                                                        int OH, int OW, int align_corners, scalar_t scale_h,
                                                        scalar_t scale_w) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    int iw = (int)(index % W);
    int ih = (int)((index / W) % H);
    long long plane = index / ((long long)H * W);
    const scalar_t* grad_plane = grad_out + plane * OH * OW;

    int oh_begin = first_linear_at_least(ih - 1, H, OH, align_corners, scale_h);
    int oh_end = first_linear_at_least(ih + 1, H, OH, align_corners, scale_h);
    int ow_begin = first_linear_at_least(iw - 1, W, OW, align_corners, scale_w);
    int ow_end = first_linear_at_least(iw + 1, W, OW, align_corners, scale_w);
    scalar_t sum = 0;
    for (int oh = oh_begin; oh < oh_end; ++oh) {
        scalar_t weight_h = linear_weight(oh, ih, H, OH, align_corners, scale_h);
        for (int ow = ow_begin; ow < ow_end; ++ow) {
            scalar_t weight_w = linear_weight(ow, iw, W, OW, align_corners, scale_w);
            sum += weight_h * weight_w * grad_plane[oh * OW + ow];
        }
    }
    grad_x[index] = sum;
}

// ---------------------------------------------------------------- bicubic

#define CUBIC_A (-0.75)

// The cubic-convolution kernel for |d| <= 1: ((A + 2) d - (A + 3)) d^2 + 1.
__device__ scalar_t cubic1(scalar_t d) {
    const scalar_t a = (scalar_t)CUBIC_A;
    return ((a + (scalar_t)2) * d - (a + (scalar_t)3)) * d * d + (scalar_t)1;
}

// The cubic-convolution kernel for 1 < |d| < 2: ((A d - 5A) d + 8A) d - 4A.
__device__ scalar_t cubic2(scalar_t d) {
    const scalar_t a = (scalar_t)CUBIC_A;
    return ((a * d - (scalar_t)5 * a) * d + (scalar_t)8 * a) * d - (scalar_t)4 * a;
}

// The weights of the taps h0 - 1, h0, h0 + 1, h0 + 2 (at distances t + 1, t, 1 - t, 2 - t).
__device__ void cubic_weights(scalar_t t, scalar_t* w) {
    const scalar_t one = 1;
    const scalar_t two = 2;
    w[0] = cubic2(t + one);
    w[1] = cubic1(t);
    w[2] = cubic1(one - t);
    w[3] = cubic2(two - t);
}

// Output row oh reads rows h0 - 1 .. h0 + 2 (clamped into [0, H - 1]) at fraction t:
//   real = scale * oh (align_corners) or scale * (oh + 0.5) - 0.5 (no clamp at 0),
//   h0 = min(floor(real), H - 1), t = clip(real - h0, 0, 1).
__device__ void cubic_source(int oh, int H, int align_corners, scalar_t scale, int* h0, scalar_t* t) {
    const scalar_t zero = 0;
    const scalar_t one = 1;
    const scalar_t half = 0.5;
    scalar_t real;
    if (align_corners) {
        real = scale * (scalar_t)oh;
    } else {
        real = scale * ((scalar_t)oh + half) - half;
    }
    *h0 = min((int)floor(real), H - 1);
    scalar_t fraction = real - (scalar_t)(*h0);
    *t = fraction < zero ? zero : (fraction > one ? one : fraction);
}

// The first output row o in [0, OH] whose h0 is >= target (OH if none).
__device__ int first_cubic_at_least(int target, int H, int OH, int align_corners, scalar_t scale) {
    int lo = 0;
    int hi = OH;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int h0;
        scalar_t t;
        cubic_source(mid, H, align_corners, scale, &h0, &t);
        if (h0 >= target) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

// The total weight with which output row oh reads input row ih (its taps that clamp to ih).
__device__ scalar_t cubic_weight(int oh, int ih, int H, int align_corners, scalar_t scale) {
    int h0;
    scalar_t t;
    scalar_t w[4];
    cubic_source(oh, H, align_corners, scale, &h0, &t);
    cubic_weights(t, w);
    scalar_t weight = 0;
    for (int i = 0; i < 4; ++i) {
        const int row = min(max(h0 - 1 + i, 0), H - 1);
        if (row == ih) {
            weight += w[i];
        }
    }
    return weight;
}

// out = sum over i of wh_i * (sum over j of ww_j * x[row_i, col_j]). One thread per
// output element.
extern "C" __global__ void upsample_bicubic2d_forward(const scalar_t* __restrict__ x, scalar_t* __restrict__ out,
                                                      long long total, int H, int W, int OH, int OW, int align_corners,
                                                      scalar_t scale_h, scalar_t scale_w) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    int ow = (int)(index % OW);
    int oh = (int)((index / OW) % OH);
    long long plane = index / ((long long)OH * OW);
    const scalar_t* x_plane = x + plane * H * W;

    int h0, w0;
    scalar_t th, tw;
    scalar_t weights_h[4], weights_w[4];
    cubic_source(oh, H, align_corners, scale_h, &h0, &th);
    cubic_weights(th, weights_h);
    cubic_source(ow, W, align_corners, scale_w, &w0, &tw);
    cubic_weights(tw, weights_w);
    scalar_t value = 0;
    for (int i = 0; i < 4; ++i) {
        const int row = min(max(h0 - 1 + i, 0), H - 1);
        scalar_t along_w = 0;
        for (int j = 0; j < 4; ++j) {
            const int col = min(max(w0 - 1 + j, 0), W - 1);
            along_w += x_plane[(long long)row * W + col] * weights_w[j];
        }
        value += along_w * weights_h[i];
    }
    out[index] = value;
}

// grad_x[plane, ih, iw] = sum over the outputs (oh, ow) that read (ih, iw) of
// grad_out[plane, oh, ow] * weight_h(oh, ih) * weight_w(ow, iw). Output row oh reads ih
// only if h0(oh) lies in [ih - 2, ih + 1] (any h0 <= 1 for ih = 0, and any h0 >= H - 3
// for ih = H - 1, where taps clamp): a contiguous range of oh, since h0 never decreases.
// One thread per input element (a gather: deterministic, no atomics).
extern "C" __global__ void upsample_bicubic2d_backward(const scalar_t* __restrict__ grad_out,
                                                       scalar_t* __restrict__ grad_x, long long total, int H, int W,
                                                       int OH, int OW, int align_corners, scalar_t scale_h,
                                                       scalar_t scale_w) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    int iw = (int)(index % W);
    int ih = (int)((index / W) % H);
    long long plane = index / ((long long)H * W);
    const scalar_t* grad_plane = grad_out + plane * OH * OW;

    int oh_begin = ih == 0 ? 0 : first_cubic_at_least(ih - 2, H, OH, align_corners, scale_h);
    int oh_end = ih == H - 1 ? OH : first_cubic_at_least(ih + 2, H, OH, align_corners, scale_h);
    int ow_begin = iw == 0 ? 0 : first_cubic_at_least(iw - 2, W, OW, align_corners, scale_w);
    int ow_end = iw == W - 1 ? OW : first_cubic_at_least(iw + 2, W, OW, align_corners, scale_w);
    scalar_t sum = 0;
    for (int oh = oh_begin; oh < oh_end; ++oh) {
        scalar_t weight_h = cubic_weight(oh, ih, H, align_corners, scale_h);
        for (int ow = ow_begin; ow < ow_end; ++ow) {
            scalar_t weight_w = cubic_weight(ow, iw, W, align_corners, scale_w);
            sum += weight_h * weight_w * grad_plane[(long long)oh * OW + ow];
        }
    }
    grad_x[index] = sum;
}
