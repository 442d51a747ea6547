"""Winograd's minimal filtering F(2x2, 3x3): a 3x3 convolution with 2.25 times fewer
multiplications, the readable specification.

Notation as in ``conv.py`` (N, C, H, W, K, PH, PW, OH, OW), for a 3x3 kernel with stride
1 and dilation 1 only: OH = H + 2*PH - 2, OW = W + 2*PW - 2.

One dimension: F(2, 3)
----------------------
Two outputs of a 3-tap filter g over four inputs d (a CNN's "convolution" is this
correlation: no flip),

    y0 = d0 g0 + d1 g1 + d2 g2
    y1 = d1 g0 + d2 g1 + d3 g2                                   6 multiplications

are also

    m0 = (d0 - d2) g0                  m2 = (d2 - d1) (g0 - g1 + g2) / 2
    m1 = (d1 + d2) (g0 + g1 + g2) / 2  m3 = (d1 - d3) g2
    y0 = m0 + m1 + m2                  y1 = m1 - m2 - m3         4 multiplications

(expand them to check). The filter's factors depend on g alone, so for a convolution
they are computed once per weight, not once per output. In matrices,
y = A^T [(G g) * (B^T d)] with * elementwise and

          [1  0 -1  0]          [ 1    0    0 ]
    B^T = [0  1  1  0]      G = [1/2  1/2  1/2]      A^T = [1  1  1  0]
          [0 -1  1  0]          [1/2 -1/2  1/2]            [0  1 -1 -1]
          [0  1  0 -1]          [ 0    0    1 ]

(the rows of G and B^T evaluate the filter and the data at the points 0, 1, -1 and
"infinity": it is polynomial multiplication by interpolation, Winograd 1980).

Two dimensions: F(2x2, 3x3)
---------------------------
Nesting F(2, 3) along rows and columns, a 2x2 output tile Y of a 4x4 input tile d and a
3x3 filter g is

    Y = A^T [ (G g G^T) * (B^T d B) ] A            16 multiplications instead of 36

and a convolution sums that over the input channels. The sum commutes with A^T (.) A,
so it runs on the 4x4 transformed tiles: for each of the 16 positions (a, b) of a tile,

    M[a, b] = U[a, b] @ V[a, b]        (K, C) @ (C, tiles): one GEMM per position

with U = G g G^T per (output, input) channel pair (``weight_transform``), V = B^T d B per
input channel and tile (``input_transform``), and Y = A^T M A per output channel and tile
(``output_transform``). The GEMMs do 16*K*C multiplications per tile of four outputs
where im2col's GEMM does 36*K*C; the transforms are additions (and halvings in G).

Tiles
-----
Output tile (th, tw) holds outputs (2*th + i, 2*tw + j) for i, j in {0, 1}; it reads the
4x4 block of the zero-padded input at rows 2*th .. 2*th + 3 and columns 2*tw .. 2*tw + 3,
that is input pixel (2*th - PH + i, 2*tw - PW + j) for i, j < 4 (0 outside the image).
There are TH = ceil(OH / 2) by TW = ceil(OW / 2) tiles; when OH (OW) is odd the last
tile's second row (column) lies past the output and is dropped.

Layouts: w (K, C, 3, 3) -> U (4, 4, K, C); x (N, C, H, W) -> V (4, 4, C, N, TH, TW);
M (4, 4, K, N, TH, TW) -> y (N, K, OH, OW). Read as matrices, U[a, b] is (K, C) and
V[a, b] is (C, N*TH*TW) (free reshapes), the shapes of the GEMM above, and a batch chunk
is a slice of n in both.

Precision: the transforms only add, subtract and halve (exactly), and the GEMMs sum over
the C channels, so each output's rounding error is at most about (C + 10) eps times the
same computation on absolute values (tests/ops/test_conv_fast_paths.py derives and
checks the bound).
"""
import numpy as np

from minitorch_cv.devices import namespace

from . import _arguments as args

_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64)
_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)


def _tile_counts(OH, OW):
    """(TH, TW): the number of 2x2 output tiles along each axis, ceil(OH/2), ceil(OW/2)."""
    return (OH + 1) // 2, (OW + 1) // 2


def weight_transform(w):
    """U (4, 4, K, C) from w (K, C, 3, 3):  U[:, :, k, c] = G w[k, c] G^T."""
    _check_weight(w)
    G = _G.astype(w.dtype)
    return np.ascontiguousarray(np.einsum("ai,kcij,bj->abkc", G, w, G))


def input_transform(x, PH, PW):
    """V (4, 4, C, N, TH, TW) from x (N, C, H, W):  V[:, :, c, n, th, tw] = B^T d B, d the
    4x4 block of the zero-padded x at rows 2*th.., columns 2*tw.. (see Tiles)."""
    N, C, H, W, OH, OW = _check_input("input_transform", x, PH, PW)
    TH, TW = _tile_counts(OH, OW)
    # Pad to the tiles' reach, 2*TH + 2 rows: PH above, the rest (PH, or PH + 1 when OH
    # is odd) below.
    rows, cols = 2 * TH + 2 - H - PH, 2 * TW + 2 - W - PW
    x_padded = np.pad(x, ((0, 0), (0, 0), (PH, rows), (PW, cols)))
    d = np.empty((4, 4, C, N, TH, TW), dtype=x.dtype)
    for i in range(4):
        for j in range(4):
            block = x_padded[:, :, i : i + 2 * TH : 2, j : j + 2 * TW : 2]  # (N, C, TH, TW)
            d[i, j] = block.transpose(1, 0, 2, 3)
    BT = _BT.astype(x.dtype)
    return np.ascontiguousarray(np.einsum("ai,ijcnhw,bj->abcnhw", BT, d, BT))


def output_transform(m, OH, OW, out=None):
    """y (N, K, OH, OW) from M (4, 4, K, N, TH, TW):  the 2x2 tile of y at (2*th, 2*tw)
    is A^T M[:, :, k, n, th, tw] A, cut at OH, OW. Written into ``out`` when given (a
    C-contiguous (N, K, OH, OW) array of m's dtype, such as a batch slice of the whole
    output), else into a new array; returns it."""
    K, N, TH, TW = _check_m(m, OH, OW)
    out = _output_array(m, (N, K, OH, OW), out)
    AT = _AT.astype(m.dtype)
    tiles = np.einsum("ai,ijknhw,bj->abknhw", AT, m, AT)  # (2, 2, K, N, TH, TW)
    y = tiles.transpose(3, 2, 4, 0, 5, 1).reshape(N, K, 2 * TH, 2 * TW)  # (n, k, th, i, tw, j)
    out[...] = y[:, :, :OH, :OW]
    return out


def _check_weight(w):
    """w (K, C, 3, 3) float, K and C within a 32-bit int; returns K, C."""
    name = "weight_transform"
    shape = args.float_array(name, "w", w, ndim=4)
    if shape[2:] != (3, 3):
        raise ValueError(f"{name}: w must have 3x3 taps, shape (K, C, 3, 3), got {shape}")
    return args.integers(name, K=shape[0], C=shape[1])


def _check_input(name, x, PH, PW):
    """x (N, C, H, W) float with a non-empty 3x3 output; returns N, C, H, W, OH, OW."""
    N, C, H, W = args.float_array(name, "x", x, ndim=4)
    args.integers(name, N=N, C=C, H=H, W=W, PH=PH, PW=PW)
    OH, OW = H + 2 * PH - 2, W + 2 * PW - 2
    if OH < 1 or OW < 1:
        raise ValueError(f"{name}: the output size (OH, OW) = ({OH}, {OW}) of a 3x3 kernel is empty")
    args.extent(name, "H + 2 * PH + 1", H + 2 * PH + 1)
    args.extent(name, "W + 2 * PW + 1", W + 2 * PW + 1)
    return N, C, H, W, OH, OW


def _output_array(m, shape, out):
    """``out`` checked as the (N, K, OH, OW) result of output_transform, or a new array."""
    if out is None:
        return namespace(m).empty(shape, dtype=m.dtype)
    args.float_array("output_transform", "out", out, shape=shape, dtype=m.dtype)
    if not out.flags.c_contiguous:
        raise ValueError("output_transform: out must be C-contiguous")
    return out


def _check_m(m, OH, OW):
    """m (4, 4, K, N, TH, TW) float whose tiles cover exactly (OH, OW); returns K, N, TH, TW."""
    name = "output_transform"
    shape = args.float_array(name, "m", m, ndim=6)
    OH, OW = args.integers(name, minimum=1, OH=OH, OW=OW)
    TH, TW = _tile_counts(OH, OW)
    if shape[:2] != (4, 4) or shape[4:] != (TH, TW):
        raise ValueError(
            f"{name}: m must have shape (4, 4, K, N, TH, TW) with (TH, TW) = {(TH, TW)} for "
            f"(OH, OW) = {(OH, OW)}, got {shape}"
        )
    K, N = args.integers(name, K=shape[2], N=shape[3])
    return K, N, TH, TW
