"""Hypothesis strategies for deformable convolutions: a convolution geometry drawn by
tests/strategies_conv.py (non-square kernels, strides, paddings, dilations, weight groups,
batch 1, single channels), offset groups that divide the channels, and offsets of a drawn
kind:

    "off-grid"  a few pixels either way, fractional parts in [0.1, 0.9]: every sample is
                interpolated, and no sampling point lies within 0.1 of a whole number,
                where the bilinear sample has a kink (finite differences stay away from it)
    "far"       the same fractional parts, whole parts up to twice the image size either
                way: most samples fall partly or entirely outside the image
    "integer"   whole numbers: every sample is a pixel (or 0)

Values come from a seeded NumPy generator (tests/strategies_conv.py says why).
"""

from typing import NamedTuple

import numpy as np
from hypothesis import strategies as st

from tests.strategies_conv import ConvCase, conv_cases

OFFSET_KINDS = ("off-grid", "far", "integer")


class DeformCase(NamedTuple):
    conv: ConvCase
    OG: int  # offset groups
    offsets: str  # one of OFFSET_KINDS

    @property
    def offset_shape(self):
        c = self.conv
        return (c.N, 2 * self.OG * c.KH * c.KW, c.OH, c.OW)

    @property
    def mask_shape(self):
        c = self.conv
        return (c.N, self.OG * c.KH * c.KW, c.OH, c.OW)

    def arrays(self, seed, dtype=np.float64):
        """(x, offset, mask) for this case, from ``seed``."""
        rng = np.random.default_rng(seed)
        x = rng.standard_normal(self.conv.input_shape)
        offset = random_offsets(rng, self.offset_shape, self.offsets, self.conv.H, self.conv.W)
        mask = rng.uniform(-0.5, 1.5, self.mask_shape)  # any real number is a valid mask
        return x.astype(dtype), offset.astype(dtype), mask.astype(dtype)


def random_offsets(rng, shape, kind, H, W):
    """Offsets of ``kind`` (see the module docstring) for an H x W input."""
    if kind == "integer":
        return rng.integers(-3, 4, shape).astype(np.float64)
    reach = 2 if kind == "off-grid" else 2 * max(H, W) + 2
    whole = rng.integers(-reach, reach + 1, shape)
    return whole + rng.uniform(0.1, 0.9, shape)


@st.composite
def deform_cases(draw, offsets=OFFSET_KINDS, **conv_limits):
    """A DeformCase with a non-empty output; ``offsets``: the kinds to draw from."""
    conv = draw(conv_cases(**conv_limits))
    OG = draw(st.sampled_from([d for d in range(1, conv.C + 1) if conv.C % d == 0]))
    return DeformCase(conv, OG, draw(st.sampled_from(offsets)))
