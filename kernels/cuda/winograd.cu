// Winograd F(2x2, 3x3): the three transforms around the 16 GEMMs of a 3x3 convolution.
//
// The method, the matrices and the layouts are those of kernels/reference/winograd.py:
//     U = G g G^T      w (K, C, 3, 3)        -> U (4, 4, K, C)
//     V = B^T d B      x (N, C, H, W)        -> V (4, 4, C, N, TH, TW)
//     Y = A^T M A      M (4, 4, K, N, TH, TW) -> y (N, K, OH, OW)
// with d the 4x4 block of the zero-padded input at rows 2*th.., columns 2*tw.. (input
// pixel (2*th - PH + i, 2*tw - PW + j)), and Y the 2x2 output tile at (2*th, 2*tw), cut
// at (OH, OW). B^T, G and A^T hold only 0, +-1 and +-1/2: each product below is written
// as the additions (and halvings) it amounts to, grouped as in the Numba twin
// (kernels/cpu/winograd.py), which computes the same values a plane at a time.
//
// One thread per tile (or per weight): it reads its 4x4 (or 3x3) values into
// registers, transforms them, and writes its 16 (or up to 4) results, each to its own
// plane of the output; consecutive threads handle consecutive tw, so every one of those
// writes is coalesced. scalar_t is float or double (the launcher builds this file once
// for each).

// t = B^T d B for a 4x4 tile d, in place: rows (d0 - d2, d1 + d2, d2 - d1, d1 - d3),
// then the same combinations of columns.
__device__ void input_tile(scalar_t d[4][4]) {
    for (int j = 0; j < 4; ++j) {
        const scalar_t d0 = d[0][j], d1 = d[1][j], d2 = d[2][j], d3 = d[3][j];
        d[0][j] = d0 - d2;
        d[1][j] = d1 + d2;
        d[2][j] = d2 - d1;
        d[3][j] = d1 - d3;
    }
    for (int i = 0; i < 4; ++i) {
        const scalar_t t0 = d[i][0], t1 = d[i][1], t2 = d[i][2], t3 = d[i][3];
        d[i][0] = t0 - t2;
        d[i][1] = t1 + t2;
        d[i][2] = t2 - t1;
        d[i][3] = t1 - t3;
    }
}

// weight_transform: U[a, b, k, c] = (G w[k, c] G^T)[a, b]. One thread per (k, c):
// thread `index` = k*C + c reads its 3x3 filter and writes 16 values.
extern "C" __global__ void weight_transform(const scalar_t* __restrict__ w, scalar_t* __restrict__ u, long long total,
                                            int K, int C) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) return;
    const scalar_t half = 0.5;
    const scalar_t* g = w + index * 9;  // w[k, c] is 9 consecutive values: index = k*C + c

    scalar_t t[4][3];  // G g: rows (g0, (g0 + g1 + g2)/2, (g0 - g1 + g2)/2, g2)
    for (int j = 0; j < 3; ++j) {
        const scalar_t g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
        t[0][j] = g0;
        t[1][j] = (g0 + g1 + g2) * half;
        t[2][j] = (g0 - g1 + g2) * half;
        t[3][j] = g2;
    }
    const long long plane = (long long)K * C;  // U[a, b] is one (K, C) plane
    for (int a = 0; a < 4; ++a) {              // (G g) G^T: the same combinations of columns
        const scalar_t t0 = t[a][0], t1 = t[a][1], t2 = t[a][2];
        u[(a * 4 + 0) * plane + index] = t0;
        u[(a * 4 + 1) * plane + index] = (t0 + t1 + t2) * half;
        u[(a * 4 + 2) * plane + index] = (t0 - t1 + t2) * half;
        u[(a * 4 + 3) * plane + index] = t2;
    }
}

// input_transform: V[a, b, c, n, th, tw] = (B^T d B)[a, b]. One thread per tile: thread
// `index` = ((c*N + n)*TH + th)*TW + tw, the tile's offset in each (a, b) plane of V.
// The index splits into plane = (c, n) (the Numba twin's prange index) and the tile
// (th, tw) (its inner loops). Reads outside the image are the padding's zeros.
extern "C" __global__ void input_transform(const scalar_t* __restrict__ x, scalar_t* __restrict__ v, long long total,
                                           int N, int C, int H, int W, int PH, int PW, int TH, int TW) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) return;
    const int tw = (int)(index % TW);
    const int th = (int)((index / TW) % TH);
    const long long plane = index / ((long long)TH * TW);
    const int n = (int)(plane % N);
    const int c = (int)(plane / N);

    const scalar_t* image = x + ((long long)n * C + c) * H * W;
    scalar_t d[4][4];
    for (int i = 0; i < 4; ++i) {
        const int h = 2 * th - PH + i;
        for (int j = 0; j < 4; ++j) {
            const int w = 2 * tw - PW + j;
            d[i][j] = (0 <= h && h < H && 0 <= w && w < W) ? image[(long long)h * W + w] : (scalar_t)0;
        }
    }
    input_tile(d);
    for (int a = 0; a < 4; ++a) {
        for (int b = 0; b < 4; ++b) {
            v[(a * 4 + b) * total + index] = d[a][b];
        }
    }
}

// output_transform: y's tile (th, tw) of plane (n, k) = A^T M[:, :, k, n, th, tw] A, cut
// at (OH, OW). One thread per tile: thread `index` = ((k*N + n)*TH + th)*TW + tw, the
// tile's offset in each (a, b) plane of M. A^T combines rows (m0 + m1 + m2,
// m1 - m2 - m3); (.) A the same combinations of columns.
extern "C" __global__ void output_transform(const scalar_t* __restrict__ m, scalar_t* __restrict__ y, long long total,
                                            int K, int N, int OH, int OW, int TH, int TW) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) return;
    const int tw = (int)(index % TW);
    const int th = (int)((index / TW) % TH);
    const long long plane = index / ((long long)TH * TW);
    const int n = (int)(plane % N);
    const int k = (int)(plane / N);

    scalar_t rows[2][4];  // A^T M
    for (int b = 0; b < 4; ++b) {
        const scalar_t m0 = m[(0 * 4 + b) * total + index], m1 = m[(1 * 4 + b) * total + index];
        const scalar_t m2 = m[(2 * 4 + b) * total + index], m3 = m[(3 * 4 + b) * total + index];
        rows[0][b] = m0 + m1 + m2;
        rows[1][b] = m1 - m2 - m3;
    }
    scalar_t* out = y + ((long long)n * K + k) * OH * OW;
    for (int i = 0; i < 2; ++i) {
        const int oh = 2 * th + i;
        if (oh >= OH) break;
        const int ow = 2 * tw;
        out[(long long)oh * OW + ow] = rows[i][0] + rows[i][1] + rows[i][2];
        if (ow + 1 < OW) out[(long long)oh * OW + ow + 1] = rows[i][1] - rows[i][2] - rows[i][3];
    }
}
