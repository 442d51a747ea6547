"""minitorch_cv.checks: one exception type per kind of mistake, the same wherever the
mistake is made (a layer's constructor or a functional op)."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import checks, nn

F = nn.functional


@pytest.mark.parametrize("value", [1.5, "2", None, (1, 2, 3), (1.0, 2), True])
def test_a_pair_of_the_wrong_type_is_a_type_error(value):
    with pytest.raises(TypeError, match="f: stride must be an int or a pair of ints"):
        checks.pair("f", "stride", value)


def test_pairs_and_their_bounds():
    assert checks.pair("f", "stride", 2) == (2, 2)
    assert checks.pair("f", "stride", (2, 3)) == (2, 3)
    assert checks.pair("f", "stride", [4]) == (4, 4)
    assert checks.pair("f", "stride", (np.int64(2), 3)) == (2, 3)
    assert all(type(v) is int for v in checks.pair("f", "stride", np.int32(2)))
    with pytest.raises(ValueError, match=r"f: padding must be >= 0 along each axis, got \(1, -1\)"):
        checks.pair("f", "padding", (1, -1), minimum=0)


def test_the_wrong_type_for_an_int_is_also_a_value_error():
    """ArgumentTypeError: a TypeError, as PyTorch raises, and a ValueError, which the
    layers raised before the checks were shared."""
    assert issubclass(checks.ArgumentTypeError, TypeError)
    assert issubclass(checks.ArgumentTypeError, ValueError)
    with pytest.raises(checks.ArgumentTypeError, match="f: groups must be an int, got 1.0"):
        checks.integer("f", "groups", 1.0)
    with pytest.raises(ValueError, match="f: groups must be >= 1, got 0"):
        checks.integer("f", "groups", 0, minimum=1)


@pytest.mark.parametrize(
    "make",
    [
        lambda stride: nn.Conv2d(1, 1, 3, stride=stride),
        lambda stride: F.conv2d(mt.zeros(1, 1, 5, 5), mt.zeros(1, 1, 3, 3), stride=stride),
        lambda stride: nn.ConvTranspose2d(1, 1, 3, stride=stride),
        lambda stride: F.max_pool2d(mt.zeros(1, 1, 5, 5), 2, stride=stride),
    ],
    ids=["Conv2d", "conv2d", "ConvTranspose2d", "max_pool2d"],
)
def test_stride_1_5_raises_the_same_exception_in_every_layer(make):
    with pytest.raises(checks.ArgumentTypeError, match="stride must be an int or a pair of ints, got 1.5"):
        make(1.5)


def test_numbers():
    assert checks.positive_number("f", "eps", 1e-5) == 1e-5
    with pytest.raises(ValueError, match="f: eps: expected a value > 0, got 0"):
        checks.positive_number("f", "eps", 0)
    with pytest.raises(TypeError, match="f: eps must be a number, got str"):
        checks.positive_number("f", "eps", "1e-5")


def test_tensors():
    with pytest.raises(TypeError, match="f: input must be a Tensor, got ndarray"):
        checks.float_tensor("f", "input", np.zeros(3))
    with pytest.raises(TypeError, match=r"f: input must be a floating-point tensor \(float32 or float64\), got dtype int64"):
        checks.float_tensor("f", "input", mt.zeros(3, dtype=mt.int64))
    with pytest.raises(TypeError, match=r"float32 or float64\), got dtype float16"):
        checks.float_tensor("f", "input", mt.zeros(3, dtype=mt.float16))


@pytest.mark.parametrize(
    "padding, kernel_size, dilation, expected",
    [
        (0, (3, 3), (1, 1), (0, 0, 0, 0)),
        ((1, 2), (3, 3), (1, 1), (1, 1, 2, 2)),
        ("valid", (3, 5), (1, 1), (0, 0, 0, 0)),
        ("same", (3, 5), (1, 1), (1, 1, 2, 2)),
        ("same", (4, 2), (1, 3), (1, 2, 1, 2)),  # odd totals: the extra row/column at the end
    ],
)
def test_conv_padding(padding, kernel_size, dilation, expected):
    assert checks.conv_padding("f", padding, kernel_size, (1, 1), dilation) == expected


def test_conv_padding_errors():
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        checks.conv_padding("f", "same", (3, 3), (2, 1), (1, 1))
    with pytest.raises(ValueError, match="expected 'valid' or 'same'"):
        checks.conv_padding("f", "full", (3, 3), (1, 1), (1, 1))


def test_layers_check_their_dtype_argument():
    with pytest.raises(TypeError, match="dtype must be floating point, got int64"):
        nn.BatchNorm2d(3, dtype=mt.int64)
    with pytest.raises(TypeError, match="dtype must be floating point, got int64"):
        nn.Conv2d(1, 1, 3, dtype=mt.int64)
