// Deformable convolution (v1 and v2) on the GPU: the sampling kernels.
//
// Notation, formulas and layouts are those of kernels/reference/deform_conv.py:
//     x       (N, C, H, W)             element (n, c, h, w) at ((n*C + c)*H + h)*W + w
//     col     (C, KH, KW, N, OH, OW)   conv.cu's layout: element (c, kh, kw, n, oh, ow) at
//                                      ((((c*KH + kh)*KW + kw)*N + n)*OH + oh)*OW + ow
//     offset  (N, 2*T, OH, OW)         T = OG*KH*KW sample rows t = (g*KH + kh)*KW + kw;
//                                      dh of (n, t, oh, ow) at (2*(n*T + t)*OH + oh)*OW + ow,
//                                      dw one plane (OH*OW elements) further
//     mask    (N, T, OH, OW)           m of (n, t, oh, ow) at ((n*T + t)*OH + oh)*OW + ow
// Channel c belongs to offset group g = c / (C/OG). Tap (kh, kw) of output (oh, ow) samples
// at ph = oh*SH - PH + kh*DH + dh, pw = ow*SW - PW + kw*DW + dw (in scalar_t), bilinearly
// from the four pixels around the point; a corner outside the image contributes 0.
// has_mask = 0 (v1): m = 1 and the mask pointer is never read (the wrappers pass the
// offsets there; the grad_mask output is then a one-element placeholder, never written).
// scalar_t is float or double (the launcher builds this file once for each).
//
// Each kernel decodes its index as its Numba twin in kernels/cpu/deform_conv.py, with the
// same names in the same order. Linear indices and counts are long long.

// Whether (ph, pw) lies in [-1, H] x [-1, W], the only points with a corner in the image.
// Written so that a NaN fails it, and tested before floor() so that no huge position is
// ever converted to int.
__device__ bool near_image(scalar_t ph, scalar_t pw, int H, int W) {
    return ph >= -1 && ph <= H && pw >= -1 && pw <= W;
}

// The bilinear cell of a point near the image: its top-left pixel (h0, w0) and the
// fractions (lh, lw) of the way to the next row and column.
__device__ void bilinear_cell(scalar_t ph, scalar_t pw, int* h0, int* w0, scalar_t* lh, scalar_t* lw) {
    const scalar_t h_low = floor(ph);
    const scalar_t w_low = floor(pw);
    *h0 = (int)h_low;
    *w0 = (int)w_low;
    *lh = ph - h_low;
    *lw = pw - w_low;
}

// The four pixels v_ab = plane[h0 + a, w0 + b] of a cell, 0 for those outside the image.
__device__ scalar_t pixel_or_zero(const scalar_t* plane, int H, int W, int h, int w) {
    if (0 <= h && h < H && 0 <= w && w < W) return plane[(long long)h * W + w];
    return 0;
}

__device__ void cell_corners(const scalar_t* plane, int H, int W, int h0, int w0, scalar_t* v00, scalar_t* v01,
                             scalar_t* v10, scalar_t* v11) {
    *v00 = pixel_or_zero(plane, H, W, h0, w0);
    *v01 = pixel_or_zero(plane, H, W, h0, w0 + 1);
    *v10 = pixel_or_zero(plane, H, W, h0 + 1, w0);
    *v11 = pixel_or_zero(plane, H, W, h0 + 1, w0 + 1);
}

// The indices of element `index` of col (C, KH, KW, N, OH, OW), split as in conv.cu's im2col
// into row = (c, kh, kw) (the Numba twins' prange index in deform_im2col) and column =
// (n, oh, ow) (their inner loops).
__device__ void column_entry(long long index, int N, int KH, int KW, int OH, int OW, int* c, int* kh, int* kw, int* n,
                             int* oh, int* ow) {
    const long long columns = (long long)N * OH * OW;
    const long long column = index % columns;
    const long long row = index / columns;

    *ow = (int)(column % OW);
    *oh = (int)((column / OW) % OH);
    *n = (int)(column / ((long long)OH * OW));

    *kw = (int)(row % KW);
    *kh = (int)((row / KW) % KH);
    *c = (int)(row / ((long long)KW * KH));
}

// The sampling point (ph, pw) and mask m of tap (kh, kw) of output (oh, ow), for sample
// row `sample` = n*T + t (T = OG*KH*KW sample rows per batch element).
__device__ void sampling_point(const scalar_t* offset, const scalar_t* mask, int has_mask, long long sample, int OH,
                               int OW, int oh, int ow, int kh, int kw, int SH, int SW, int PH, int PW, int DH, int DW,
                               scalar_t* ph, scalar_t* pw, scalar_t* m) {
    const long long plane_size = (long long)OH * OW;
    const long long at = (long long)oh * OW + ow;
    *ph = (scalar_t)(oh * SH - PH + kh * DH) + offset[2 * sample * plane_size + at];
    *pw = (scalar_t)(ow * SW - PW + kw * DW) + offset[(2 * sample + 1) * plane_size + at];
    *m = has_mask ? mask[sample * plane_size + at] : (scalar_t)1;
}

// deform_im2col: col[c, kh, kw, n, oh, ow] = m * (hh*hw*v00 + hh*lw*v01 + lh*hw*v10 + lh*lw*v11),
// with hh = 1 - lh, hw = 1 - lw, 0 for a point not near the image.
// One thread per element of col: thread `index` writes col[index], decoded by column_entry.
// Consecutive threads write consecutive ow (coalesced) and read offsets and mask at
// consecutive ow as well; the pixels they read are wherever the offsets point.
extern "C" __global__ void deform_im2col(const scalar_t* __restrict__ x, const scalar_t* __restrict__ offset,
                                         const scalar_t* __restrict__ mask, scalar_t* __restrict__ col, long long total,
                                         int has_mask, int N, int C, int H, int W, int KH, int KW, int SH, int SW,
                                         int PH, int PW, int DH, int DW, int OH, int OW, int OG) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) return;
    int c, kh, kw, n, oh, ow;
    column_entry(index, N, KH, KW, OH, OW, &c, &kh, &kw, &n, &oh, &ow);

    const int g = c / (C / OG);
    const long long sample = (long long)n * OG * KH * KW + (g * KH + kh) * KW + kw;  // n*T + t
    scalar_t ph, pw, m;
    sampling_point(offset, mask, has_mask, sample, OH, OW, oh, ow, kh, kw, SH, SW, PH, PW, DH, DW, &ph, &pw, &m);

    scalar_t value = 0;
    if (near_image(ph, pw, H, W)) {
        int h0, w0;
        scalar_t lh, lw, v00, v01, v10, v11;
        bilinear_cell(ph, pw, &h0, &w0, &lh, &lw);
        cell_corners(x + ((long long)n * C + c) * H * W, H, W, h0, w0, &v00, &v01, &v10, &v11);
        const scalar_t hh = 1 - lh, hw = 1 - lw;
        value = hh * hw * v00 + hh * lw * v01 + lh * hw * v10 + lh * lw * v11;
    }
    col[index] = m * value;
}

// Adds `value` to plane[h, w] when the pixel is in the image. atomicAdd: see deform_col2im.
__device__ void add_to_pixel(scalar_t* plane, int H, int W, int h, int w, scalar_t value) {
    if (0 <= h && h < H && 0 <= w && w < W) atomicAdd(&plane[(long long)h * W + w], value);
}

// deform_col2im, the input gradient, a scatter: every column entry spreads
// spread = m * col[c, kh, kw, n, oh, ow] onto the four pixels of its sample's cell,
//     grad_x[n, c, h0 + a, w0 + b] += weight_ab * spread
// (weight_00 = hh*hw, weight_01 = hh*lw, weight_10 = lh*hw, weight_11 = lh*lw; pixels
// outside the image get nothing). grad_x starts at zero (the wrapper allocates it so).
// One thread per element of col, decoded by column_entry. Unlike conv.cu's col2im this
// cannot be a gather: any sample may land on any pixel, so a pixel cannot list the entries
// that touch it. Threads of different samples may add to the same pixel at the same time,
// so each addition is an atomicAdd (a plain += would lose updates). The order of the
// additions varies, so the float result may differ in the last bits from run to run; the
// Numba twin instead gives each CPU thread whole planes (n, c) and is deterministic.
extern "C" __global__ void deform_col2im(const scalar_t* __restrict__ col, const scalar_t* __restrict__ offset,
                                         const scalar_t* __restrict__ mask, scalar_t* __restrict__ grad_x,
                                         long long total, int has_mask, int N, int C, int H, int W, int KH, int KW,
                                         int SH, int SW, int PH, int PW, int DH, int DW, int OH, int OW, int OG) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) return;
    int c, kh, kw, n, oh, ow;
    column_entry(index, N, KH, KW, OH, OW, &c, &kh, &kw, &n, &oh, &ow);

    const int g = c / (C / OG);
    const long long sample = (long long)n * OG * KH * KW + (g * KH + kh) * KW + kw;  // n*T + t
    scalar_t ph, pw, m;
    sampling_point(offset, mask, has_mask, sample, OH, OW, oh, ow, kh, kw, SH, SW, PH, PW, DH, DW, &ph, &pw, &m);
    if (!near_image(ph, pw, H, W)) return;

    int h0, w0;
    scalar_t lh, lw;
    bilinear_cell(ph, pw, &h0, &w0, &lh, &lw);
    const scalar_t hh = 1 - lh, hw = 1 - lw;
    const scalar_t spread = m * col[index];
    scalar_t* plane = grad_x + ((long long)n * C + c) * H * W;
    add_to_pixel(plane, H, W, h0, w0, hh * hw * spread);
    add_to_pixel(plane, H, W, h0, w0 + 1, hh * lw * spread);
    add_to_pixel(plane, H, W, h0 + 1, w0, lh * hw * spread);
    add_to_pixel(plane, H, W, h0 + 1, w0 + 1, lh * lw * spread);
}

// deform_col2offset, the offset and mask gradients, a gather: for sample row t of (n, oh, ow),
// with gcol_c = col[c, kh, kw, n, oh, ow] and sums over the channels c of the group g,
//     grad_offset[n, 2*t, oh, ow]     = m * sum of gcol_c * (hw*(v10 - v00) + lw*(v11 - v01))
//     grad_offset[n, 2*t + 1, oh, ow] = m * sum of gcol_c * (hh*(v01 - v00) + lh*(v11 - v10))
//     grad_mask[n, t, oh, ow]         =     sum of gcol_c * sample_c          (only if has_mask)
// the derivatives of the bilinear sample with respect to ph and pw (weights d hh/d ph = -1,
// d lh/d ph = 1, ...), summed over the C/OG channels of the group in increasing c.
// One thread per sampling point: thread `index` = ((n*T + t)*OH + oh)*OW + ow writes the
// three gradient elements of its point and nothing else (no atomics, deterministic). The
// index splits into (oh, ow) (Numba's inner loops) and sample = n*T + t (Numba's prange
// index); t into (g, kh, kw).
extern "C" __global__ void deform_col2offset(const scalar_t* __restrict__ col, const scalar_t* __restrict__ x,
                                             const scalar_t* __restrict__ offset, const scalar_t* __restrict__ mask,
                                             scalar_t* __restrict__ grad_offset, scalar_t* __restrict__ grad_mask,
                                             long long total, int has_mask, int N, int C, int H, int W, int KH, int KW,
                                             int SH, int SW, int PH, int PW, int DH, int DW, int OH, int OW, int OG) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) return;
    const long long plane_size = (long long)OH * OW;
    const long long at = index % plane_size;
    const long long sample = index / plane_size;

    const int ow = (int)(at % OW);
    const int oh = (int)(at / OW);

    const int T = OG * KH * KW;
    const int t = (int)(sample % T);
    const int n = (int)(sample / T);
    const int kw = t % KW;
    const int kh = (t / KW) % KH;
    const int g = t / (KW * KH);

    scalar_t ph, pw, m;
    sampling_point(offset, mask, has_mask, sample, OH, OW, oh, ow, kh, kw, SH, SW, PH, PW, DH, DW, &ph, &pw, &m);

    scalar_t grad_ph = 0, grad_pw = 0, grad_m = 0;
    if (near_image(ph, pw, H, W)) {
        int h0, w0;
        scalar_t lh, lw, v00, v01, v10, v11;
        bilinear_cell(ph, pw, &h0, &w0, &lh, &lw);
        const scalar_t hh = 1 - lh, hw = 1 - lw;
        const int Cg = C / OG;
        for (int c = g * Cg; c < (g + 1) * Cg; ++c) {
            const scalar_t gcol = col[((((long long)c * KH + kh) * KW + kw) * N + n) * plane_size + at];
            cell_corners(x + ((long long)n * C + c) * H * W, H, W, h0, w0, &v00, &v01, &v10, &v11);
            grad_ph += gcol * (hw * (v10 - v00) + lw * (v11 - v01));
            grad_pw += gcol * (hh * (v01 - v00) + lh * (v11 - v10));
            grad_m += gcol * (hh * hw * v00 + hh * lw * v01 + lh * hw * v10 + lh * lw * v11);
        }
    }
    grad_offset[2 * sample * plane_size + at] = m * grad_ph;
    grad_offset[(2 * sample + 1) * plane_size + at] = m * grad_pw;
    if (has_mask) grad_mask[sample * plane_size + at] = grad_m;
}
