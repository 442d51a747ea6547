// Bilinear grid sampling in CUDA C: the GPU implementation of the "grid_sample" family.
//
// Formulas (pixel coordinates, "zeros"/"border" padding, the four weights, the
// derivatives) are those of kernels/reference/grid_sample.py. Layouts, all C-contiguous:
//     x, grad_x      (N, C, H, W)      element (n, c, h, w)  at ((n*C + c)*H + h)*W + w
//     grid, grad_grid (N, OH, OW, 2)   point (n, oh, ow)     at ((n*OH + oh)*OW + ow)*2
//     out, grad_out  (N, C, OH, OW)
// pixel_coordinate, neighbours, read and scatter are line-for-line twins of the Numba
// helpers _pixel_coordinate, _neighbours, _read and _scatter in kernels/cpu/grid_sample.py
// (neighbours returns a struct here, a tuple there). scalar_t is float or double; booleans arrive as int.
//
// Thread mapping: ONE THREAD PER GRID POINT (n, oh, ow), decoded as ow = index % OW,
// oh = (index / OW) % OH, n = index / (OH*OW); it computes the coordinates and weights
// once and loops over the C channels (as PyTorch's kernel does).
//   forward:  the thread writes out[n, c, oh, ow] for every c.
//   backward: the thread writes grad_grid[n, oh, ow, :] (its own) and ADDS into the four
//             pixels of grad_x it read, with atomicAdd: a pixel may be read by any
//             number of grid points, so no gather can know its sources in advance
//             (the grid is arbitrary). The order of the additions varies from run to
//             run, so grad_x may differ in the last bits; grad_x must start at zero.

#define OUTSIDE (-100.0)  // where a far-away or non-finite coordinate is moved (reads zeros)

// The pixel coordinate of one normalized coordinate, and d pixel / d coord in *slope.
__device__ scalar_t pixel_coordinate(scalar_t coord, int size, int border, int align_corners, scalar_t* slope) {
    const scalar_t one = 1;
    const scalar_t two = 2;
    scalar_t pixel;
    if (align_corners) {
        pixel = (coord + one) / two * (scalar_t)(size - 1);
        *slope = (scalar_t)(size - 1) / two;
    } else {
        pixel = ((coord + one) * (scalar_t)size - one) / two;
        *slope = (scalar_t)size / two;
    }
    if (border) {
        if (!(pixel > 0 && pixel < size - 1)) {
            *slope = 0;
        }
        // (comparisons, not fmin/fmax, so that NaN stays NaN and is moved OUTSIDE below)
        pixel = pixel < 0 ? (scalar_t)0 : (pixel > size - 1 ? (scalar_t)(size - 1) : pixel);
    }
    if (!(pixel >= -2 && pixel <= size + 1)) {  // far away, or NaN
        pixel = (scalar_t)OUTSIDE;
    }
    return pixel;
}

// Where one grid point reads: the top-left neighbour (x0, y0), the distances that weigh
// the four neighbours (west = x0 + 1 - ix, east = ix - x0, north = y0 + 1 - iy,
// south = iy - y0) and the slopes d ix / d gx, d iy / d gy.
struct Neighbours {
    int x0, y0;
    scalar_t west, east, north, south, slope_x, slope_y;
};

__device__ Neighbours neighbours(scalar_t gx, scalar_t gy, int H, int W, int border, int align_corners) {
    Neighbours p;
    const scalar_t ix = pixel_coordinate(gx, W, border, align_corners, &p.slope_x);
    const scalar_t iy = pixel_coordinate(gy, H, border, align_corners, &p.slope_y);
    const scalar_t x0f = floor(ix);
    const scalar_t y0f = floor(iy);
    p.west = x0f + 1 - ix;
    p.east = ix - x0f;
    p.north = y0f + 1 - iy;
    p.south = iy - y0f;
    p.x0 = (int)x0f;
    p.y0 = (int)y0f;
    return p;
}

// x[n, c, row, col] of the (n, c) plane starting at `plane`, or 0 outside the input.
__device__ scalar_t read(const scalar_t* plane, int row, int col, int H, int W) {
    if (row < 0 || row >= H || col < 0 || col >= W) {
        return 0;
    }
    return plane[(long long)row * W + col];
}

// grad_plane[row, col] += value where (row, col) is inside the input.
__device__ void scatter(scalar_t* plane, int row, int col, int H, int W, scalar_t value) {
    if (row >= 0 && row < H && col >= 0 && col < W) {
        atomicAdd(&plane[(long long)row * W + col], value);
    }
}

// out[n, c, oh, ow] = nw v_nw + ne v_ne + sw v_sw + se v_se for every c.
extern "C" __global__ void grid_sample_forward(const scalar_t* __restrict__ x, const scalar_t* __restrict__ grid,
                                               scalar_t* __restrict__ out, long long total, int C, int H, int W, int OH,
                                               int OW, int border, int align_corners) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    const int ow = (int)(index % OW);
    const int oh = (int)((index / OW) % OH);
    const long long n = index / ((long long)OH * OW);

    const Neighbours p = neighbours(grid[index * 2], grid[index * 2 + 1], H, W, border, align_corners);
    const long long positions = (long long)OH * OW;
    for (int c = 0; c < C; ++c) {
        const scalar_t* plane = x + (n * C + c) * H * W;
        out[(n * C + c) * positions + (long long)oh * OW + ow] =
            p.west * p.north * read(plane, p.y0, p.x0, H, W) + p.east * p.north * read(plane, p.y0, p.x0 + 1, H, W) +
            p.west * p.south * read(plane, p.y0 + 1, p.x0, H, W) +
            p.east * p.south * read(plane, p.y0 + 1, p.x0 + 1, H, W);
    }
}

// grad_x (atomically) += g * weight at the four neighbours, for every c;
// grad_grid[n, oh, ow] = (sum_c g * d out / d ix * slope_x, sum_c g * d out / d iy * slope_y).
extern "C" __global__ void grid_sample_backward(const scalar_t* __restrict__ grad_out, const scalar_t* __restrict__ x,
                                                const scalar_t* __restrict__ grid, scalar_t* __restrict__ grad_x,
                                                scalar_t* __restrict__ grad_grid, long long total, int C, int H, int W,
                                                int OH, int OW, int border, int align_corners) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= total) {
        return;
    }
    const int ow = (int)(index % OW);
    const int oh = (int)((index / OW) % OH);
    const long long n = index / ((long long)OH * OW);

    const Neighbours p = neighbours(grid[index * 2], grid[index * 2 + 1], H, W, border, align_corners);
    const long long positions = (long long)OH * OW;
    scalar_t d_ix = 0;
    scalar_t d_iy = 0;
    for (int c = 0; c < C; ++c) {
        const scalar_t g = grad_out[(n * C + c) * positions + (long long)oh * OW + ow];
        const scalar_t* plane = x + (n * C + c) * H * W;
        scalar_t* grad_plane = grad_x + (n * C + c) * H * W;
        const scalar_t nw = read(plane, p.y0, p.x0, H, W);
        const scalar_t ne = read(plane, p.y0, p.x0 + 1, H, W);
        const scalar_t sw = read(plane, p.y0 + 1, p.x0, H, W);
        const scalar_t se = read(plane, p.y0 + 1, p.x0 + 1, H, W);
        scatter(grad_plane, p.y0, p.x0, H, W, g * p.west * p.north);
        scatter(grad_plane, p.y0, p.x0 + 1, H, W, g * p.east * p.north);
        scatter(grad_plane, p.y0 + 1, p.x0, H, W, g * p.west * p.south);
        scatter(grad_plane, p.y0 + 1, p.x0 + 1, H, W, g * p.east * p.south);
        d_ix += g * (p.north * (ne - nw) + p.south * (se - sw));
        d_iy += g * (p.west * (sw - nw) + p.east * (se - ne));
    }
    grad_grid[index * 2] = d_ix * p.slope_x;
    grad_grid[index * 2 + 1] = d_iy * p.slope_y;
}
