"""The geometry of a pooling window, shared by the pooling and resampling ops: the input
they accept, the window arguments, the output size. Generic checks (pairs, ints, tensors)
come from ``minitorch_cv.checks``; each raises before any kernel runs.
"""
from .. import checks


def check_spatial_input(fn, input, ranks=(3, 4)):
    """``input`` must be a float32/float64 Tensor of rank 4 (N, C, H, W), or 3
    (C, H, W) where ``ranks`` allows it; C, H and W must be non-zero (N may be 0)."""
    checks.tensor(fn, "input", input)
    if input.ndim not in ranks:
        layouts = " or ".join({3: "3-D (C, H, W)", 4: "4-D (N, C, H, W)"}[r] for r in ranks)
        raise ValueError(f"{fn}: input must be {layouts}, got shape {input.shape}")
    checks.float_tensor(fn, "input", input)
    if 0 in input.shape[-3:]:
        raise ValueError(
            f"{fn}: input must have non-zero channel and spatial sizes, got shape {input.shape}"
        )


def check_positive(fn, name, values):
    """Each of the (height, width) ``values`` is at least 1."""
    if min(values) < 1:
        raise ValueError(f"{fn}: {name} must be positive, got {values}")


def pooled_size(size, K, S, P, D, ceil_mode):
    """PyTorch's pooling output size along one axis:
        floor_or_ceil((size + 2P - D*(K-1) - 1) / S) + 1,
    and with ceil_mode the last window must start inside the input or the LEFT
    padding ((out-1)*S < size + P), so no window starts in the right padding."""
    span = size + 2 * P - D * (K - 1) - 1
    if ceil_mode:
        out = -(-span // S) + 1
        if (out - 1) * S >= size + P:
            out -= 1
    else:
        out = span // S + 1  # Python's // rounds toward -inf, like PyTorch's div_rtn
    return out


def window_args(fn, kernel_size, stride, padding, dilation):
    """Validate the window of a strided pooling; returns four pairs."""
    kernel = checks.pair(fn, "kernel_size", kernel_size)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel  # PyTorch's default: non-overlapping windows
    else:
        stride = checks.pair(fn, "stride", stride)
    padding = checks.pair(fn, "padding", padding)
    dilation = checks.pair(fn, "dilation", dilation)
    check_positive(fn, "kernel_size", kernel)
    check_positive(fn, "stride", stride)
    check_positive(fn, "dilation", dilation)
    if min(padding) < 0:
        raise ValueError(f"{fn}: padding must be non-negative, got {padding}")
    # PyTorch's rule (pool2d_shape_check): pad <= kernel_size // 2 on each axis.
    limit = (kernel[0] // 2, kernel[1] // 2)
    if padding[0] > limit[0] or padding[1] > limit[1]:
        raise ValueError(
            f"{fn}: padding must be at most half of kernel_size, i.e. at most {limit} for "
            f"kernel_size {kernel}, got {padding}"
        )
    return kernel, stride, padding, dilation


def pooled_shape(fn, H, W, kernel, stride, padding, dilation, ceil_mode):
    OH = pooled_size(H, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    OW = pooled_size(W, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    if OH < 1 or OW < 1:
        raise ValueError(
            f"{fn}: the output would be empty: input (H, W) = {(H, W)} with kernel_size "
            f"{kernel}, stride {stride}, padding {padding}, dilation {dilation} gives "
            f"(OH, OW) = {(OH, OW)}; expected a window that fits (a larger input or a "
            f"smaller kernel)"
        )
    return OH, OW
