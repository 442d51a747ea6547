"""Hypothesis strategies for convolution geometries, valid by construction.

Instead of drawing an input size and hoping the output is not empty, ``conv_cases``
draws the output size (OH, OW) >= 1 first and derives an input size that gives it:

    OH = (H + 2*PH - DH*(KH - 1) - 1) // SH + 1
    <=>  H + 2*PH = SH*(OH - 1) + DH*(KH - 1) + 1 + RH     for some 0 <= RH < SH

RH is the number of trailing input rows that the last kernel position does not reach:
exactly the ``output_padding`` that makes conv_transpose2d map (OH, OW) back to (H, W).
The padding is drawn up to what keeps H >= 1 (PyTorch accepts any padding that leaves a
non-empty output). Everything is drawn per axis, so kernels, strides, paddings and
dilations are non-square; groups include depthwise (one input channel per group), and
batch 1 and single channels come up often. Sizes stay small so that the emulated CUDA
kernels run a few thousand threads per call.
"""

from typing import NamedTuple

from hypothesis import strategies as st


class ConvCase(NamedTuple):
    N: int
    C: int
    H: int
    W: int
    K: int
    KH: int
    KW: int
    SH: int
    SW: int
    PH: int
    PW: int
    DH: int
    DW: int
    G: int
    RH: int  # trailing input rows/columns that no kernel position reaches
    RW: int

    @property
    def OH(self):
        return (self.H + 2 * self.PH - self.DH * (self.KH - 1) - 1) // self.SH + 1

    @property
    def OW(self):
        return (self.W + 2 * self.PW - self.DW * (self.KW - 1) - 1) // self.SW + 1

    @property
    def input_shape(self):
        return (self.N, self.C, self.H, self.W)

    @property
    def weight_shape(self):
        """conv2d's weight (K, C/G, KH, KW); conv_transpose2d from (N, K, OH, OW) back
        to (N, C, H, W) takes the same tensor as its (C_in, C_out/G, KH, KW) weight."""
        return (self.K, self.C // self.G, self.KH, self.KW)

    @property
    def output_shape(self):
        return (self.N, self.K, self.OH, self.OW)

    @property
    def stride(self):
        return (self.SH, self.SW)

    @property
    def padding(self):
        return (self.PH, self.PW)

    @property
    def dilation(self):
        return (self.DH, self.DW)

    def kernel_args(self):
        return (self.KH, self.KW, self.SH, self.SW, self.PH, self.PW, self.DH, self.DW)

    def conv2d_kwargs(self):
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.G)

    def conv_transpose2d_kwargs(self):
        """The arguments that make conv_transpose2d the adjoint of conv2d(**conv2d_kwargs())."""
        return dict(
            stride=self.stride,
            padding=self.padding,
            output_padding=(self.RH, self.RW),
            dilation=self.dilation,
            groups=self.G,
        )


@st.composite
def _axis(draw, max_kernel, max_stride, max_dilation, max_padding, max_output):
    """(size, K, S, P, D, O, R) along one axis, with O >= 1 output positions."""
    K = draw(st.integers(1, max_kernel))
    S = draw(st.integers(1, max_stride))
    D = draw(st.integers(1, max_dilation))
    O = draw(st.integers(1, max_output))
    R = draw(st.integers(0, S - 1))
    padded = S * (O - 1) + D * (K - 1) + 1 + R  # = size + 2*P
    P = draw(st.integers(0, min(max_padding, (padded - 1) // 2)))
    return padded - 2 * P, K, S, P, D, O, R


@st.composite
def conv_cases(
    draw,
    max_kernel=3,
    max_stride=3,
    max_dilation=2,
    max_padding=2,
    max_output=4,
    max_batch=2,
    max_groups=3,
    max_group_channels=2,
):
    """A ConvCase whose output is not empty."""
    axis = _axis(max_kernel, max_stride, max_dilation, max_padding, max_output)
    H, KH, SH, PH, DH, _, RH = draw(axis)
    W, KW, SW, PW, DW, _, RW = draw(axis)
    G = draw(st.integers(1, max_groups))
    depthwise = draw(st.booleans())
    Cg = 1 if depthwise else draw(st.integers(1, max_group_channels))
    Kg = draw(st.integers(1, max_group_channels))
    N = draw(st.integers(1, max_batch))
    return ConvCase(N, G * Cg, H, W, G * Kg, KH, KW, SH, SW, PH, PW, DH, DW, G, RH, RW)


def seeds():
    """Seeds for NumPy generators: values are drawn from a seeded generator rather than
    element by element (much faster for arrays of thousands of values), and hypothesis
    still reproduces and shrinks the seed."""
    return st.integers(0, 2**32 - 1)
