"""Pooling and upsampling layers: stored geometry, forward against the functional ops."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from minitorch_cv.nn import functional as F


def _input(shape=(2, 3, 9, 8), seed=0):
    return mt.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=mt.float64)


def test_max_pool2d_layer():
    x = _input()
    layer = nn.MaxPool2d((3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), ceil_mode=True)
    expected = F.max_pool2d(x, (3, 2), (2, 1), (1, 0), (1, 2), ceil_mode=True)
    np.testing.assert_array_equal(layer(x).numpy(), expected.numpy())
    assert nn.MaxPool2d(2).stride == 2
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"


def test_max_pool2d_indices_and_unpool():
    x = _input((1, 2, 4, 6))
    out, indices = nn.MaxPool2d(2, return_indices=True)(x)
    unpool = nn.MaxUnpool2d(2)
    restored = unpool(out, indices)
    assert restored.shape == x.shape
    np.testing.assert_array_equal(restored.numpy(), F.max_unpool2d(out, indices, (2, 2), (2, 2), (0, 0)).numpy())
    # every pooled maximum is back at its place, zeros elsewhere
    data, back = x.numpy(), restored.numpy()
    nonzero = back != 0
    np.testing.assert_array_equal(back[nonzero], data[nonzero])
    assert nonzero.sum() == out.numel()
    assert unpool(out, indices, output_size=(5, 7)).shape == (1, 2, 5, 7)
    assert repr(unpool) == "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"


def test_avg_pool2d_layer():
    x = _input()
    layer = nn.AvgPool2d((3, 2), stride=(2, 1), padding=1, ceil_mode=True, count_include_pad=False)
    expected = F.avg_pool2d(x, (3, 2), (2, 1), 1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_array_equal(layer(x).numpy(), expected.numpy())
    layer = nn.AvgPool2d(2, divisor_override=3)
    np.testing.assert_allclose(layer(x).numpy(), F.avg_pool2d(x, 2).numpy() * 4 / 3, rtol=1e-12)
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"


def test_adaptive_pool_layers():
    x = _input()
    np.testing.assert_array_equal(nn.AdaptiveAvgPool2d((4, 3))(x).numpy(),
                                  F.adaptive_avg_pool2d(x, (4, 3)).numpy())
    assert nn.AdaptiveAvgPool2d(1)(x).shape == (2, 3, 1, 1)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(x).numpy()[..., 0, 0], x.numpy().mean(axis=(2, 3)))
    np.testing.assert_array_equal(nn.AdaptiveMaxPool2d((2, 5))(x).numpy(),
                                  F.adaptive_max_pool2d(x, (2, 5)).numpy())
    out, indices = nn.AdaptiveMaxPool2d(2, return_indices=True)(x)
    assert out.shape == indices.shape == (2, 3, 2, 2)
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"


@pytest.mark.parametrize("kwargs", [
    {"scale_factor": 2},
    {"size": (5, 7)},
    {"scale_factor": (2, 3), "mode": "bilinear", "align_corners": True},
    {"size": 6, "mode": "bilinear", "align_corners": False},
])
def test_upsample_layer(kwargs):
    x = _input((1, 2, 3, 4))
    layer = nn.Upsample(**kwargs)
    expected = F.interpolate(x, kwargs.get("size"), kwargs.get("scale_factor"), kwargs.get("mode", "nearest"),
                             kwargs.get("align_corners"))
    np.testing.assert_array_equal(layer(x).numpy(), expected.numpy())


def test_upsample_arguments_and_repr():
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(nn.Upsample(size=(4, 4), mode="bilinear")) == "Upsample(size=(4, 4), mode='bilinear')"
    with pytest.raises(ValueError, match="either size or scale_factor"):
        nn.Upsample()
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        nn.Upsample(size=3, scale_factor=2)
    x = _input((1, 1, 2, 3))
    np.testing.assert_array_equal(nn.UpsamplingBilinear2d(scale_factor=2)(x).numpy(),
                                  F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True).numpy())
    np.testing.assert_array_equal(nn.UpsamplingNearest2d(size=(4, 6))(x).numpy(),
                                  F.interpolate(x, size=(4, 6)).numpy())
