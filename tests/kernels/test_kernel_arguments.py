"""Every public kernel refuses arguments that would take it outside an array, in all three
forms alike (kernels/reference/_arguments.py and the ``_check_*`` of each family): a short
or long per-channel array, a mismatched gradient, an index it would follow out of range,
a size that does not fit the CUDA kernels' 32-bit ints. Before these checks, several of
these calls read or wrote out of bounds (a segfault, or garbage such as 9.65e-43)."""
import numpy as np
import pytest

from tests.helpers import KERNEL_IMPLEMENTATIONS, call_kernel

IMPLEMENTATIONS = ["reference"] + KERNEL_IMPLEMENTATIONS
F32 = np.float32


def ones(*shape, dtype=F32):
    return np.ones(shape, dtype=dtype)


# (family, kernel, arguments, exception, message)
CASES = [
    # softmax: targets are followed into x and weight
    ("softmax", "cross_entropy_forward", (ones(2, 5), np.array([0, 10**12]), ones(5), -100, 0.0),
     IndexError, r"target holds 1000000000000, outside \[0, 5\)"),
    ("softmax", "cross_entropy_forward", (ones(2, 5), np.array([0, -1]), ones(5), -100, 0.0), IndexError, "-1"),
    ("softmax", "cross_entropy_backward",
     (ones(2, 5), ones(2), np.array([1, 5]), ones(5), ones(2), -100, 0.0), IndexError, "target holds 5"),
    ("softmax", "cross_entropy_forward", (ones(2, 5), np.array([0]), ones(5), -100, 0.0), ValueError, "target"),
    ("softmax", "cross_entropy_forward", (ones(2, 5), np.array([0, 1]), ones(4), -100, 0.0), ValueError, "weight"),
    ("softmax", "cross_entropy_forward", (ones(2, 0), np.array([0, 1]), ones(0), -100, 0.0), ValueError, "COLS"),
    ("softmax", "softmax_backward", (ones(2, 5), ones(2, 4)), ValueError, "dy"),
    ("softmax", "softmax_forward", (ones(5),), ValueError, "2 dims"),
    ("softmax", "log_softmax_forward", (np.ones((2, 3), np.int64),), TypeError, "float32 or float64"),
    # layer norm: the affine arrays are read at every column
    ("layer_norm", "layer_norm_forward", (ones(2, 8), ones(3), ones(3), 1e-5), ValueError, r"weight must have shape \(8,\)"),
    ("layer_norm", "layer_norm_backward_input", (ones(2, 8), ones(2, 8), ones(3), ones(2), None), ValueError, "mean"),
    ("layer_norm", "layer_norm_forward", (ones(2, 8), None, None, float("nan")), ValueError, "eps"),
    # group norm
    ("group_norm", "group_norm_forward", (ones(2, 6, 4), None, None, 4, 1e-5), ValueError, "divide into G = 4"),
    ("group_norm", "group_norm_forward", (ones(2, 6, 4), ones(5), None, 3, 1e-5), ValueError, "weight"),
    ("group_norm", "group_norm_backward_reduce", (ones(2, 6, 4), ones(2, 6, 4), ones(2, 2), ones(2, 3), 3), ValueError, "mean"),
    # batch norm
    ("batch_norm", "batch_norm_backward_reduce", (ones(2, 3, 4), ones(2, 3, 4), ones(2), ones(3)), ValueError, "mean"),
    ("batch_norm", "batch_norm_backward_input",
     (ones(2, 3, 4), ones(2, 3, 5), ones(3), ones(3), None, ones(3), ones(3)), ValueError, "dy"),
    # local response norm
    ("local_response_norm", "lrn_forward", (ones(1, 3, 2, 2), 3, 1e-4, 0.75, 1.0), ValueError, "3 dims"),
    ("local_response_norm", "lrn_forward", (ones(1, 3, 4), 0, 1e-4, 0.75, 1.0), ValueError, "size"),
    ("local_response_norm", "lrn_backward", (ones(1, 3, 4), ones(1, 3, 4), ones(1, 3, 5), ones(1, 3, 4), 3, 1e-4, 0.75),
     ValueError, "y"),
    # pooling: indices are followed (unpooling, the Numba scatter), sizes are C ints
    ("pool", "max_unpool2d_forward", (ones(1, 1, 2, 2), np.array([[[[0, 3], [9, 16]]]]), 4, 4), IndexError,
     r"indices holds 16, outside \[0, 16\)"),
    ("pool", "max_unpool2d_backward", (ones(1, 1, 4, 4), np.array([[[[0, -3], [9, 15]]]])), IndexError, "-3"),
    ("pool", "max_unpool2d_backward", (ones(1, 1, 4, 4), np.zeros((2, 1, 2, 2), np.int64)), ValueError, r"\(N, C\)"),
    ("pool", "max_pool2d_backward", (ones(1, 1, 2, 2), np.full((1, 1, 2, 2), 99), 4, 4, 2, 2, 2, 2, 0, 0, 1, 1),
     IndexError, "argmax holds 99"),
    ("pool", "max_pool2d_backward", (ones(1, 1, 2, 2), np.zeros((1, 1, 2, 3), np.int64), 4, 4, 2, 2, 2, 2, 0, 0, 1, 1),
     ValueError, "argmax must have shape"),
    ("pool", "adaptive_max_pool2d_backward", (ones(1, 1, 2, 2), np.full((1, 1, 2, 2), 16), 4, 4), IndexError, "16"),
    ("pool", "max_pool2d_forward", (ones(1, 1, 4, 4), 2, 2, 2**40, 1, 0, 0, 1, 1, 1, 2), ValueError, "SH=1099511627776"),
    ("pool", "avg_pool2d_forward", (ones(1, 1, 4, 4), 2, 2, 1, 1, 2**31 - 2, 0, 1, 1, True, 0), ValueError, "H \\+ 2 \\* PH"),
    ("pool", "avg_pool2d_forward", (ones(1, 1, 4, 4), 2, 2, 2, 2, 0, 0, 2, 2, True, 2**64), ValueError, "divisor_override"),
    ("pool", "adaptive_avg_pool2d_forward", (ones(1, 1, 4, 4), 0, 2), ValueError, "OH"),
    ("pool", "adaptive_avg_pool2d_backward", (ones(1, 1, 2, 2), 0, 4), ValueError, "H"),
    # resampling: a negative or NaN scale would send the source index out of the input
    ("resample", "upsample_nearest2d_forward", (ones(1, 1, 2, 2), 4, 4, -0.5, 0.5), ValueError, "scale_h"),
    ("resample", "upsample_bilinear2d_forward", (ones(1, 1, 2, 2), 4, 4, True, 0.5, float("nan")), ValueError, "scale_w"),
    ("resample", "upsample_nearest2d_backward", (ones(1, 1, 4, 4), 0, 2, 0.5, 0.5), ValueError, "H"),
    ("resample", "upsample_nearest2d_forward", (ones(1, 1, 2, 2), 2**31, 1, 0.5, 0.5), ValueError, "OH"),
    ("resample", "upsample_bicubic2d_forward", (ones(1, 1, 2, 2), 4, 4, False, float("inf"), 0.5), ValueError, "scale_h"),
    ("resample", "upsample_bicubic2d_backward", (ones(1, 1, 4, 4), 2, 0, False, 0.5, 0.5), ValueError, "W"),
    # grid sample: every grid point is read as two coordinates of its sample
    ("grid_sample", "grid_sample_forward", (ones(2, 1, 3, 3), ones(1, 2, 2, 2), False, False), ValueError,
     r"grid must have shape \(2, 2, 2, 2\)"),
    ("grid_sample", "grid_sample_forward", (ones(1, 1, 3, 3), ones(1, 2, 2, 1), False, False), ValueError, "grid"),
    ("grid_sample", "grid_sample_forward", (ones(1, 1, 3, 3), ones(1, 2, 2, 2, dtype=np.float64), False, False),
     TypeError, "grid must have the dtype float32"),
    ("grid_sample", "grid_sample_backward", (ones(1, 1, 2, 3), ones(1, 1, 3, 3), ones(1, 2, 2, 2), False, False),
     ValueError, "grad_out"),
    # convolution
    ("conv", "im2col", (ones(1, 1, 4, 4), 2, 2, 1, 1, 2**30, 0, 1, 1), ValueError, r"H \+ 2 \* PH"),
    ("conv", "im2col", (ones(1, 4, 4), 2, 2, 1, 1, 0, 0, 1, 1), ValueError, "4 dims"),
    ("conv", "col2im", (np.ones((1, 2, 2, 1, 3, 2), F32), 1, 1, 4, 4, 2, 2, 1, 1, 0, 0, 1, 1), ValueError, "col must have"),
    # attention
    ("attention", "attention_forward", (ones(1, 1, 4, 8), ones(1, 1, 5, 7), ones(1, 1, 5, 8), None, 0.5, False),
     ValueError, "k must have shape"),
    ("attention", "attention_forward", (ones(1, 1, 4, 8), ones(1, 1, 5, 8), ones(1, 1, 5, 8), ones(1, 2, 4, 5), 0.5, False),
     ValueError, "bias"),
    ("attention", "attention_forward", (ones(1, 1, 4, 8), ones(1, 1, 5, 8), ones(1, 1, 6, 8), None, 0.5, False),
     ValueError, "v must have shape"),
]  # fmt: skip


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize(
    "family, kernel, arguments, exception, message", CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)]
)
def test_bad_arguments_are_refused_before_any_kernel_runs(implementation, family, kernel, arguments, exception, message):
    with pytest.raises(exception, match=message):
        call_kernel(implementation, family, kernel, *arguments)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_the_index_checks_follow_memory_shared_with_numpy(implementation):
    """The check runs at each call on the array as it is then: a target changed after the
    forward (a NumPy array sharing its memory) is caught by the backward."""
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(F32)
    target = np.array([0, 1, 2])
    _, lse = call_kernel(implementation, "softmax", "cross_entropy_forward", x, target, ones(4), -100, 0.0)
    target[1] = 4
    with pytest.raises(IndexError, match="target holds 4"):
        call_kernel(implementation, "softmax", "cross_entropy_backward", x, lse, target, ones(4), ones(3), -100, 0.0)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_ignore_index_and_empty_windows_pass_the_index_checks(implementation):
    x = np.zeros((2, 3), F32)
    loss, _ = call_kernel(implementation, "softmax", "cross_entropy_forward", x, np.array([-100, 2]), ones(3), -100, 0.0)
    np.testing.assert_allclose(loss, [0, np.log(3)], rtol=1e-6)
    grad = call_kernel(implementation, "pool", "max_pool2d_backward", ones(1, 1, 1, 1), np.array([[[[-1]]]]), 2, 2,
                       1, 1, 1, 1, 0, 0, 1, 1)  # fmt: skip
    np.testing.assert_array_equal(grad, 0)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_a_huge_pooling_kernel_on_a_small_image_is_fast_and_exact(implementation):
    """Kernel 2**20 with padding 2**19 on a 4x4 image: PyTorch gives a 5x5 output of the
    image's maximum; the reference once looped over all 2**40 taps."""
    x = np.arange(16, dtype=F32).reshape(1, 1, 4, 4)
    K, P = 2**20, 2**19
    out, argmax = call_kernel(implementation, "pool", "max_pool2d_forward", x, K, K, 1, 1, P, P, 1, 1, 5, 5)
    assert out.shape == (1, 1, 5, 5)
    np.testing.assert_array_equal(out, 15)
    mean = call_kernel(implementation, "pool", "avg_pool2d_forward", x, K, K, 1, 1, P, P, 5, 5, False, 0)
    np.testing.assert_allclose(mean, 7.5)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_window_areas_and_divisors_beyond_32_bits(implementation):
    """A window area of 2**31 (65536 x 32768, count_include_pad) and divisor_override
    2**40: PyTorch divides by them exactly; the CUDA kernel once overflowed an int."""
    x = np.ones((1, 1, 1, 1), F32)
    out = call_kernel(implementation, "pool", "avg_pool2d_forward", x, 2**16, 2**15, 1, 1, 2**15, 2**14, 2, 2, True, 0)
    np.testing.assert_allclose(out, 2.0**-31, rtol=1e-6)
    out = call_kernel(implementation, "pool", "avg_pool2d_forward", ones(1, 1, 4, 4), 2, 2, 2, 2, 0, 0, 2, 2, True, 2**40)
    np.testing.assert_allclose(out, 4 / 2**40, rtol=1e-6)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_lrn_size_beyond_32_bits(implementation):
    """The window is clipped to the channels but the sum is divided by size itself."""
    x = np.full((1, 3, 2), 2.0, F32)
    y, scale = call_kernel(implementation, "local_response_norm", "lrn_forward", x, 2**31, 1.0, 1.0, 1.0)
    expected_scale = 1.0 + 3 * 4.0 / 2**31  # every window covers the 3 channels
    np.testing.assert_allclose(scale, expected_scale, rtol=1e-6)
