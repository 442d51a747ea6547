"""``interpolate``: resize (N, C, H, W) images with "nearest", "bilinear" or "bicubic"
sampling.

FCN and U-Net upsample coarse score maps back to the image size with this op. Output
size: ``size`` directly, or OH = floor(H * scale_factor) (the same for W). Each output
row oh reads the input at a source position computed with PyTorch's formulas
(kernels/reference/resample.py states them); ``scale`` below is the source step per
output pixel:
    bilinear, align_corners=True:  scale = (H - 1) / (OH - 1)     (0 when OH == 1)
                                   the corner pixels of input and output line up
    otherwise, scale_factor given
    and not recompute_scale_factor: scale = 1 / scale_factor
    otherwise:                     scale = H / OH
    nearest:  src = min(floor(oh * scale), H - 1)                 (PyTorch's legacy rule)
    bilinear: src = scale * oh (align_corners) or max(scale * (oh + 0.5) - 0.5, 0), and
              the output mixes rows floor(src) and floor(src) + 1 with weights
              1 - frac(src) and frac(src) (and the same for columns).
    bicubic:  src = scale * oh or scale * (oh + 0.5) - 0.5 (not clamped), and the
              output mixes rows floor(src) - 1 .. floor(src) + 2 (clamped to the image)
              with the cubic-convolution weights of frac(src) (A = -0.75).
              PyTorch's CPU backward copies the gradient when OH == H and W == OW
              although its forward resamples (a scale_factor near 1); ours is the
              exact adjoint of the forward.
Backward: every output pixel sends its gradient (times its weights) back to the input
pixels it read.
"""
import math
import numbers

from .. import backend, checks
from ..autograd import Function
from ..devices import device_of_array
from . import _pool_args as args

MODES = ("nearest", "bilinear", "bicubic")


class UpsampleNearest2d(Function):
    @staticmethod
    def forward(ctx, x, out_size, scales):
        resample = backend.RESAMPLE.on(device_of_array(x))
        ctx.resample, ctx.hw, ctx.scales = resample, x.shape[2:], scales
        return resample.upsample_nearest2d_forward(x, *out_size, *scales)

    @staticmethod
    def backward(ctx, grad_out):
        grad_x = ctx.resample.upsample_nearest2d_backward(grad_out, *ctx.hw, *ctx.scales)
        return grad_x, None, None


class UpsampleBilinear2d(Function):
    @staticmethod
    def forward(ctx, x, out_size, align_corners, scales):
        resample = backend.RESAMPLE.on(device_of_array(x))
        ctx.resample, ctx.hw, ctx.align_corners, ctx.scales = resample, x.shape[2:], align_corners, scales
        return resample.upsample_bilinear2d_forward(x, *out_size, align_corners, *scales)

    @staticmethod
    def backward(ctx, grad_out):
        grad_x = ctx.resample.upsample_bilinear2d_backward(
            grad_out, *ctx.hw, ctx.align_corners, *ctx.scales
        )
        return grad_x, None, None, None


class UpsampleBicubic2d(Function):
    @staticmethod
    def forward(ctx, x, out_size, align_corners, scales):
        resample = backend.RESAMPLE.on(device_of_array(x))
        ctx.resample, ctx.hw, ctx.align_corners, ctx.scales = resample, x.shape[2:], align_corners, scales
        return resample.upsample_bicubic2d_forward(x, *out_size, align_corners, *scales)

    @staticmethod
    def backward(ctx, grad_out):
        grad_x = ctx.resample.upsample_bicubic2d_backward(
            grad_out, *ctx.hw, ctx.align_corners, *ctx.scales
        )
        return grad_x, None, None, None


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _output_size(fn, input, size, scale_factor, recompute_scale_factor):
    """(OH, OW) and the scale factors to hand to the kernels (None: use H / OH)."""
    H, W = input.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{fn}: exactly one of size and scale_factor must be given")
    if size is not None:
        if recompute_scale_factor is not None and recompute_scale_factor:
            raise ValueError(f"{fn}: recompute_scale_factor is not meaningful with an explicit size")
        if isinstance(size, (tuple, list)) and len(size) != 2:  # one size per spatial dim
            raise checks.ArgumentTypeError(f"{fn}: size must be an int or a pair of ints (OH, OW), got {size!r}")
        sizes = checks.pair(fn, "size", size)
        factors = (None, None)
    else:
        if _is_number(scale_factor):
            factors = (float(scale_factor), float(scale_factor))
        elif (
            isinstance(scale_factor, (tuple, list))
            and len(scale_factor) == 2
            and all(_is_number(s) for s in scale_factor)
        ):
            factors = (float(scale_factor[0]), float(scale_factor[1]))
        else:
            raise checks.ArgumentTypeError(
                f"{fn}: scale_factor must be a number or a pair of numbers, got {scale_factor!r}"
            )
        if not all(f > 0 and math.isfinite(f) for f in factors):
            raise ValueError(f"{fn}: scale_factor must be positive and finite, got {scale_factor!r}")
        sizes = (math.floor(H * factors[0]), math.floor(W * factors[1]))
        if recompute_scale_factor:
            factors = (None, None)  # the kernels use H / OH, as if size had been given
    if min(sizes) < 1:
        raise ValueError(
            f"{fn}: the output size must be positive, got (OH, OW) = {sizes} for input "
            f"(H, W) = {(H, W)}"
        )
    return sizes, factors


def _scale(size, out_size, factor, align_corners):
    """The source step per output pixel (see the module docstring)."""
    if align_corners:
        return (size - 1) / (out_size - 1) if out_size > 1 else 0.0
    if factor is not None:
        return 1.0 / factor
    return size / out_size


def interpolate(
    input,  # noqa: A002 - PyTorch's argument name
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
):
    """Resize a 4-D (N, C, H, W) tensor to ``size`` or by ``scale_factor``.
    ``antialias`` is in PyTorch's signature; only its default, False, is provided."""
    fn = "interpolate"
    args.check_spatial_input(fn, input, ranks=(4,))
    if mode not in MODES:
        raise ValueError(f"{fn}: mode must be one of {MODES}, got {mode!r}")
    if antialias:
        raise ValueError(f"{fn}: antialias must be False (anti-aliased resampling is not provided)")
    if mode == "nearest" and align_corners is not None:
        raise ValueError(
            f"{fn}: align_corners can only be set with mode='bilinear' or 'bicubic', got "
            f"align_corners={align_corners!r} with mode='nearest'"
        )
    if align_corners is not None and not isinstance(align_corners, bool):
        raise TypeError(f"{fn}: align_corners must be None or a bool, got {align_corners!r}")
    (OH, OW), (factor_h, factor_w) = _output_size(fn, input, size, scale_factor, recompute_scale_factor)
    H, W = input.shape[2:]
    align = bool(align_corners)
    scales = (_scale(H, OH, factor_h, align), _scale(W, OW, factor_w, align))
    if mode == "nearest":
        return UpsampleNearest2d.apply(input, (OH, OW), scales)
    if mode == "bicubic":
        return UpsampleBicubic2d.apply(input, (OH, OW), align, scales)
    return UpsampleBilinear2d.apply(input, (OH, OW), align, scales)
