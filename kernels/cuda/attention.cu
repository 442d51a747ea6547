// Scaled dot-product attention, fused: forward with an online softmax, backward that
// recomputes the probabilities from the saved log-sum-exp. Built for float and double
// through the type macro scalar_t (the launcher compiles the file once per dtype).
//
// Notation (see kernels/reference/attention.py for the formulas):
//   B batch, NH heads, L query length, S key length, E query/key head dim,
//   Ev value head dim. q (B, NH, L, E), k (B, NH, S, E), v (B, NH, S, Ev),
//   out (B, NH, L, Ev), lse (B, NH, L), all contiguous.
//   bias: the additive bias read as bias[b*bias_sb + h*bias_sh + i*bias_sl + j*bias_ss];
//   a broadcast dim has stride 0 (no bias = one 0 with every stride 0).
//   s_ij = scale * <q_i, k_j> + bias_ij (-inf where j > i when causal),
//   p_ij = exp(s_ij - lse_i), out_i = sum_j p_ij v_j.
//
// The online softmax (one pass over the keys instead of max, then sum, then weights):
//   keep a running max m, a running sum l = sum_j exp(s_j - m) and acc = sum_j exp(s_j - m) v_j;
//   when a tile of keys raises the max to m', multiply l and acc by exp(m - m') first;
//   after the last key, out = acc / l and lse = m + log(l).
//
// Geometry. A block has TILE x TILE threads; thread t is (row, lane) with lane = t % TILE,
// row = t / TILE. Every kernel walks over tiles of TILE rows of the other operand and keeps
// its tiles in static shared memory. The (L x S) score matrix never exists: a block
// holds one TILE x TILE piece of it at a time. Rows of the big tiles are padded to
// E_MAX + 1 so that the TILE threads of a row, reading Ks[lane][d] for one d, hit
// different shared memory banks.
//
// Memory: besides its inputs and outputs (out, lse; dq, dk, dv, D), nothing here grows
// with L * S, except ds_full, the (B, NH, L, S) gradient of the bias, written only when
// the bias needs a gradient (the Python side sums it down to the bias's shape).
//
// Fully masked rows (every s_ij = -inf): out_i = 0 and lse_i = +inf, so that
// p_ij = exp(s_ij - lse_i) = 0 in the backward and every gradient through the row is 0.
//
// Every exchange between threads goes through the shared-memory tiles and
// __syncthreads(): each thread needs whole rows of the tiles (the scores of its query
// row, the keys and values of the tile), which a warp shuffle would not save.

// Largest head dim (E and Ev) the shared-memory tiles hold; the Python wrapper checks it.
#define E_MAX 128

// Tile edge: 16 for float (256 threads), 8 for double (64 threads), so that the four
// TILE x (E_MAX + 1) tiles of the backward fit the 48 KB of static shared memory
// (4 * 16 * 129 * 4 B = 33 KB for float, 4 * 8 * 129 * 8 B = 33 KB for double).
#define TILE (sizeof(scalar_t) == 4 ? 16 : 8)
#define THREADS (TILE * TILE)
// Columns of a (TILE x E_MAX) accumulator owned by one thread: d = lane + r * TILE.
#define PER_THREAD (E_MAX / TILE)

// Copy rows first..first+TILE-1 of a (rows x dim) matrix into a shared tile with row
// pitch `pitch`, zeros past the last row (every thread of the block takes part).
__device__ void load_tile(scalar_t* tile, int pitch, const scalar_t* __restrict__ matrix, int first, int rows,
                          int dim) {
    for (int idx = threadIdx.x; idx < TILE * dim; idx += THREADS) {
        int d = idx % dim;
        int r = idx / dim;
        tile[r * pitch + d] = (first + r < rows) ? matrix[(long long)(first + r) * dim + d] : (scalar_t)0;
    }
}

// <a, b> over the first n entries of two shared-memory rows.
__device__ scalar_t dot(const scalar_t* a, const scalar_t* b, int n) {
    scalar_t total = 0;
    for (int d = 0; d < n; ++d) total += a[d] * b[d];
    return total;
}

// s_ij of query i and key j, or -inf when (i, j) is padding or masked by causality.
__device__ scalar_t score(const scalar_t* q_row, const scalar_t* k_row, int E, int i, int j, int L, int S,
                          const scalar_t* __restrict__ bias, long long bias_bh, long long bias_sl, long long bias_ss,
                          scalar_t scale, int causal) {
    if (i >= L || j >= S || (causal && j > i)) return -INFINITY;
    return scale * dot(q_row, k_row, E) + bias[bias_bh + i * bias_sl + j * bias_ss];
}

// ------------------------------------------------------------------------------------
// attention_forward: out and lse of TILE queries of one head.
// Grid (ceil(L / TILE), NH, B): block (x, y, z) = (query tile, head h, batch b).
// Thread (row, lane) computes the score of query i = q0 + row against key
// j = k0 + lane of each key tile, and owns out[i][lane + r * TILE] (r < PER_THREAD).
// (INFINITY is defined by the launcher for NVRTC and the emulation alike.)
extern "C" __global__ void attention_forward(const scalar_t* __restrict__ q, const scalar_t* __restrict__ k,
                                             const scalar_t* __restrict__ v, const scalar_t* __restrict__ bias,
                                             scalar_t* __restrict__ out, scalar_t* __restrict__ lse, int L, int S,
                                             int E, int Ev, long long bias_sb, long long bias_sh, long long bias_sl,
                                             long long bias_ss, scalar_t scale, int causal) {
    __shared__ scalar_t Qs[TILE][E_MAX + 1];
    __shared__ scalar_t Ks[TILE][E_MAX + 1];
    __shared__ scalar_t Vs[TILE][E_MAX];
    __shared__ scalar_t Ss[TILE][TILE];  // scores of the current (query, key) tile
    __shared__ scalar_t Ps[TILE][TILE];  // their weights exp(s - m)

    const int NH = gridDim.y;
    const int h = blockIdx.y;
    const int b = blockIdx.z;
    const int q0 = blockIdx.x * TILE;
    const int lane = threadIdx.x % TILE;
    const int row = threadIdx.x / TILE;
    const int i = q0 + row;
    const long long head = (long long)b * NH + h;
    const long long bias_bh = b * bias_sb + h * bias_sh;

    load_tile(&Qs[0][0], E_MAX + 1, q + head * L * E, q0, L, E);

    scalar_t m = -INFINITY;  // running max of row i (the same in every thread of the row)
    scalar_t l = 0;          // running sum of exp(s_ij - m)
    scalar_t acc[PER_THREAD];
    for (int r = 0; r < PER_THREAD; ++r) acc[r] = 0;

    // Causal: no query of this tile sees a key past its last query q0 + TILE - 1.
    const int n_keys = (causal && q0 + TILE < S) ? q0 + TILE : S;
    for (int k0 = 0; k0 < n_keys; k0 += TILE) {
        __syncthreads();  // the previous tile is no longer being read
        load_tile(&Ks[0][0], E_MAX + 1, k + head * S * E, k0, S, E);
        load_tile(&Vs[0][0], E_MAX, v + head * S * Ev, k0, S, Ev);
        __syncthreads();

        // 1. one score per thread
        Ss[row][lane] = score(Qs[row], Ks[lane], E, i, k0 + lane, L, S, bias, bias_bh, bias_sl, bias_ss, scale, causal);
        __syncthreads();

        // 2. the new running max of row i (each thread of the row computes it), then
        //    this thread's weight. While the row is fully masked, m_new = -inf and the
        //    shift is 0, so the weights are exp(-inf) = 0 instead of exp(nan).
        scalar_t m_new = m;
        for (int c = 0; c < TILE; ++c) m_new = fmax(m_new, Ss[row][c]);
        const scalar_t shift = (m_new == -INFINITY) ? (scalar_t)0 : m_new;
        Ps[row][lane] = exp(Ss[row][lane] - shift);
        __syncthreads();

        // 3. rescale what was summed under the old max, add this tile
        const scalar_t alpha = exp(m - shift);  // 0 on the first unmasked tile
        scalar_t tile_sum = 0;
        for (int c = 0; c < TILE; ++c) tile_sum += Ps[row][c];
        l = alpha * l + tile_sum;
        for (int r = 0; r < PER_THREAD; ++r) {
            const int d = lane + r * TILE;
            if (d < Ev) {
                scalar_t weighted = 0;
                for (int c = 0; c < TILE; ++c) weighted += Ps[row][c] * Vs[c][d];
                acc[r] = alpha * acc[r] + weighted;
            }
        }
        m = m_new;
    }

    if (i < L) {
        const scalar_t inv_l = (l > 0) ? (scalar_t)1 / l : (scalar_t)0;  // fully masked: 0
        for (int r = 0; r < PER_THREAD; ++r) {
            const int d = lane + r * TILE;
            if (d < Ev) out[(head * L + i) * Ev + d] = acc[r] * inv_l;
        }
        if (lane == 0) lse[head * L + i] = (l > 0) ? m + log(l) : (scalar_t)INFINITY;
    }
}

// ------------------------------------------------------------------------------------
// attention_backward_rowdot: D_i = <dout_i, out_i> (= sum_j p_ij dp_ij) of every query
// row. One thread per row, rows = B * NH * L, 1-D grid.
extern "C" __global__ void attention_backward_rowdot(const scalar_t* __restrict__ out,
                                                     const scalar_t* __restrict__ dout, scalar_t* __restrict__ D,
                                                     long long rows, int Ev) {
    const long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= rows) return;
    scalar_t total = 0;
    for (int d = 0; d < Ev; ++d) total += dout[index * Ev + d] * out[index * Ev + d];
    D[index] = total;
}

// ------------------------------------------------------------------------------------
// attention_backward_dq: dq_i = scale * sum_j ds_ij k_j for TILE queries of one head,
// with p_ij = exp(s_ij - lse_i), dp_ij = <dout_i, v_j>, ds_ij = p_ij (dp_ij - D_i).
// Grid (ceil(L / TILE), NH, B) as in the forward; thread (row, lane) computes ds of
// query i = q0 + row and key j = k0 + lane, writes it to ds_full when with_dbias, and
// owns dq[i][lane + r * TILE].
extern "C" __global__ void attention_backward_dq(const scalar_t* __restrict__ q, const scalar_t* __restrict__ k,
                                                 const scalar_t* __restrict__ v, const scalar_t* __restrict__ bias,
                                                 const scalar_t* __restrict__ lse, const scalar_t* __restrict__ D,
                                                 const scalar_t* __restrict__ dout, scalar_t* __restrict__ dq,
                                                 scalar_t* __restrict__ ds_full, int L, int S, int E, int Ev,
                                                 long long bias_sb, long long bias_sh, long long bias_sl,
                                                 long long bias_ss, scalar_t scale, int causal, int with_dbias) {
    __shared__ scalar_t Qs[TILE][E_MAX + 1];
    __shared__ scalar_t dOs[TILE][E_MAX + 1];
    __shared__ scalar_t Ks[TILE][E_MAX + 1];
    __shared__ scalar_t Vs[TILE][E_MAX + 1];
    __shared__ scalar_t dSs[TILE][TILE];

    const int NH = gridDim.y;
    const int h = blockIdx.y;
    const int b = blockIdx.z;
    const int q0 = blockIdx.x * TILE;
    const int lane = threadIdx.x % TILE;
    const int row = threadIdx.x / TILE;
    const int i = q0 + row;
    const long long head = (long long)b * NH + h;
    const long long bias_bh = b * bias_sb + h * bias_sh;

    load_tile(&Qs[0][0], E_MAX + 1, q + head * L * E, q0, L, E);
    load_tile(&dOs[0][0], E_MAX + 1, dout + head * L * Ev, q0, L, Ev);
    const scalar_t lse_i = (i < L) ? lse[head * L + i] : (scalar_t)INFINITY;  // padding: p = 0
    const scalar_t D_i = (i < L) ? D[head * L + i] : (scalar_t)0;

    scalar_t acc[PER_THREAD];
    for (int r = 0; r < PER_THREAD; ++r) acc[r] = 0;

    const int n_keys = (causal && q0 + TILE < S) ? q0 + TILE : S;
    for (int k0 = 0; k0 < n_keys; k0 += TILE) {
        __syncthreads();
        load_tile(&Ks[0][0], E_MAX + 1, k + head * S * E, k0, S, E);
        load_tile(&Vs[0][0], E_MAX + 1, v + head * S * Ev, k0, S, Ev);
        __syncthreads();

        const int j = k0 + lane;
        const scalar_t s = score(Qs[row], Ks[lane], E, i, j, L, S, bias, bias_bh, bias_sl, bias_ss, scale, causal);
        const scalar_t p = exp(s - lse_i);
        const scalar_t ds = p * (dot(dOs[row], Vs[lane], Ev) - D_i);
        dSs[row][lane] = ds;
        if (with_dbias && i < L && j < S) ds_full[(head * L + i) * S + j] = ds;
        __syncthreads();

        for (int r = 0; r < PER_THREAD; ++r) {
            const int d = lane + r * TILE;
            if (d < E) {
                for (int c = 0; c < TILE; ++c) acc[r] += dSs[row][c] * Ks[c][d];
            }
        }
    }

    if (i < L) {
        for (int r = 0; r < PER_THREAD; ++r) {
            const int d = lane + r * TILE;
            if (d < E) dq[(head * L + i) * E + d] = scale * acc[r];
        }
    }
}

// ------------------------------------------------------------------------------------
// attention_backward_dkdv: for TILE keys of one head,
//   dv_j = sum_i p_ij dout_i      dk_j = scale * sum_i ds_ij q_i
// Grid (ceil(S / TILE), NH, B): block (x, y, z) = (key tile, head h, batch b). Thread
// (row, lane) computes p and ds of key j = k0 + row and query i = q0 + lane of each
// query tile, and owns dk[j][lane + r * TILE] and dv[j][lane + r * TILE].
// A second kernel over key tiles (instead of atomicAdd into dk and dv from the dq
// kernel) gathers every sum in one thread: deterministic, at the price of computing
// s and dp twice.
extern "C" __global__ void attention_backward_dkdv(const scalar_t* __restrict__ q, const scalar_t* __restrict__ k,
                                                   const scalar_t* __restrict__ v, const scalar_t* __restrict__ bias,
                                                   const scalar_t* __restrict__ lse, const scalar_t* __restrict__ D,
                                                   const scalar_t* __restrict__ dout, scalar_t* __restrict__ dk,
                                                   scalar_t* __restrict__ dv, int L, int S, int E, int Ev,
                                                   long long bias_sb, long long bias_sh, long long bias_sl,
                                                   long long bias_ss, scalar_t scale, int causal) {
    __shared__ scalar_t Ks[TILE][E_MAX + 1];
    __shared__ scalar_t Vs[TILE][E_MAX + 1];
    __shared__ scalar_t Qs[TILE][E_MAX + 1];
    __shared__ scalar_t dOs[TILE][E_MAX + 1];
    __shared__ scalar_t Ps[TILE][TILE];   // Ps[row][lane] = p of key k0 + row, query q0 + lane
    __shared__ scalar_t dSs[TILE][TILE];  // the same for ds

    const int NH = gridDim.y;
    const int h = blockIdx.y;
    const int b = blockIdx.z;
    const int k0 = blockIdx.x * TILE;
    const int lane = threadIdx.x % TILE;
    const int row = threadIdx.x / TILE;
    const int j = k0 + row;
    const long long head = (long long)b * NH + h;
    const long long bias_bh = b * bias_sb + h * bias_sh;

    load_tile(&Ks[0][0], E_MAX + 1, k + head * S * E, k0, S, E);
    load_tile(&Vs[0][0], E_MAX + 1, v + head * S * Ev, k0, S, Ev);

    scalar_t dk_acc[PER_THREAD];
    scalar_t dv_acc[PER_THREAD];
    for (int r = 0; r < PER_THREAD; ++r) dk_acc[r] = dv_acc[r] = 0;

    // Causal: queries before k0 see none of these keys (q tiles start at multiples of TILE).
    for (int q0 = causal ? k0 : 0; q0 < L; q0 += TILE) {
        __syncthreads();
        load_tile(&Qs[0][0], E_MAX + 1, q + head * L * E, q0, L, E);
        load_tile(&dOs[0][0], E_MAX + 1, dout + head * L * Ev, q0, L, Ev);
        __syncthreads();

        const int i = q0 + lane;
        const scalar_t lse_i = (i < L) ? lse[head * L + i] : (scalar_t)INFINITY;
        const scalar_t D_i = (i < L) ? D[head * L + i] : (scalar_t)0;
        const scalar_t s = score(Qs[lane], Ks[row], E, i, j, L, S, bias, bias_bh, bias_sl, bias_ss, scale, causal);
        const scalar_t p = exp(s - lse_i);
        Ps[row][lane] = p;
        dSs[row][lane] = p * (dot(dOs[lane], Vs[row], Ev) - D_i);
        __syncthreads();

        for (int r = 0; r < PER_THREAD; ++r) {
            const int d = lane + r * TILE;
            for (int c = 0; c < TILE; ++c) {
                if (d < Ev) dv_acc[r] += Ps[row][c] * dOs[c][d];
                if (d < E) dk_acc[r] += dSs[row][c] * Qs[c][d];
            }
        }
    }

    if (j < S) {
        for (int r = 0; r < PER_THREAD; ++r) {
            const int d = lane + r * TILE;
            if (d < Ev) dv[(head * S + j) * Ev + d] = dv_acc[r];
            if (d < E) dk[(head * S + j) * E + d] = scale * dk_acc[r];
        }
    }
}
