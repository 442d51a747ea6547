// im2col and col2im: convolution as one matrix product, on the GPU.
//
// Notation, formulas and layouts are those of kernels/reference/conv.py:
//     x   (N, C, H, W)             element (n, c, h, w)  at ((n*C + c)*H + h)*W + w
//     col (C, KH, KW, N, OH, OW)   element (c, kh, kw, n, oh, ow) at
//                                  ((((c*KH + kh)*KW + kw)*N + n)*OH + oh)*OW + ow
//     output position (oh, ow) and tap (kh, kw) read pixel
//         ih = oh*SH - PH + kh*DH,  iw = ow*SW - PW + kw*DW.
// scalar_t is float or double (the launcher builds this file once for each).
//
// Both kernels run one thread per element of the array they write. The index splits
// into the part that is the Numba twin's prange index (row, or plane) and the part that
// Numba turns into inner loops (kernels/cpu/conv.py, same names); each part is decoded
// fastest-moving coordinate first, as every kernel of the project does. Linear indices
// and the counts they are compared with are long long: col easily has more than 2^31
// elements.

// source_index: the output position o whose tap k reads pixel i along one axis, or -1
// if there is none. o*S - P + k*D == i gives o = (i + P - k*D) / S, which counts only if
// the division is exact and 0 <= o < O. (kernels/cpu/conv.py tabulates this function as
// _source_index; pool.cu's backward gathers use the same one.)
__device__ int source_index(int i, int k, int S, int P, int D, int O) {
    const int o_stride = i + P - k * D;
    if (o_stride < 0 || o_stride % S != 0) return -1;
    const int o = o_stride / S;
    if (o >= O) return -1;
    return o;
}

// im2col: col[c, kh, kw, n, oh, ow] = x[n, c, ih, iw], or 0 when (ih, iw) is padding.
// One thread per element of col: thread `index` writes col[index]. The index splits
// into row = (c, kh, kw), the row of the column matrix (Numba's prange index), and
// column = (n, oh, ow), the output position (Numba's inner loops). Consecutive threads
// write consecutive ow: the writes are coalesced, the reads strided by SW.
extern "C" __global__ void im2col(const scalar_t* __restrict__ x, scalar_t* __restrict__ col, long long total, int N,
                                  int C, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW,
                                  int OH, int OW) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) return;
    const long long columns = (long long)N * OH * OW;
    const long long column = index % columns;
    const long long row = index / columns;

    const int ow = (int)(column % OW);
    const int oh = (int)((column / OW) % OH);
    const int n = (int)(column / ((long long)OH * OW));

    const int kw = (int)(row % KW);
    const int kh = (int)((row / KW) % KH);
    const int c = (int)(row / ((long long)KW * KH));

    const int ih = oh * SH - PH + kh * DH;
    const int iw = ow * SW - PW + kw * DW;
    scalar_t value = 0;
    if (0 <= ih && ih < H && 0 <= iw && iw < W) {
        value = x[(((long long)n * C + c) * H + ih) * W + iw];
    }
    col[index] = value;
}

// col2im, a gather: x[n, c, h, w] = sum of col[c, kh, kw, n, oh, ow] over the taps
// (kh, kw) whose output position (oh, ow) = (source_index(h, kh, ...), source_index(w,
// kw, ...)) exists. One thread per pixel of x: thread `index` writes x[index] and
// nothing else, so there are no atomics and the sum (in the order kh, then kw) is the
// same on every run. The index splits into plane = (n, c) (Numba's prange index) and
// pixel = (h, w) (Numba's inner loops; Numba runs them inside the tap loops, which
// changes nothing in any pixel's sum).
extern "C" __global__ void col2im(const scalar_t* __restrict__ col, scalar_t* __restrict__ x, long long total, int N,
                                  int C, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW,
                                  int OH, int OW) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) return;
    const long long pixel = index % ((long long)H * W);
    const long long plane = index / ((long long)H * W);

    const int w = (int)(pixel % W);
    const int h = (int)(pixel / W);

    const int c = (int)(plane % C);
    const int n = (int)(plane / C);

    scalar_t pixel_sum = 0;
    for (int kh = 0; kh < KH; ++kh) {
        const int oh = source_index(h, kh, SH, PH, DH, OH);
        if (oh < 0) continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int ow = source_index(w, kw, SW, PW, DW, OW);
            if (ow < 0) continue;
            pixel_sum += col[(((((long long)c * KH + kh) * KW + kw) * N + n) * OH + oh) * OW + ow];
        }
    }
    x[index] = pixel_sum;
}
