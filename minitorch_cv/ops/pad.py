"""``pad(input, pad, mode="constant", value=0)`` with PyTorch's argument order.

``pad`` lists (before, after) pairs starting from the LAST dim:
(left, right) pads W, (left, right, top, bottom) pads H and W, and so on. Negative
amounts crop. Modes: "constant", "reflect" (mirror without repeating the edge),
"replicate" (repeat the edge).
"""
from ..autograd import Function
from ..devices import namespace
from ..tensor import Tensor

_NUMPY_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


class Pad(Function):
    @staticmethod
    def forward(ctx, x, widths, mode, value):
        xp = namespace(x)
        # Crop first (negative widths), then pad (positive widths).
        crop = tuple(slice(max(-lo, 0), size - max(-hi, 0)) for (lo, hi), size in zip(widths, x.shape))
        positive = tuple((max(lo, 0), max(hi, 0)) for lo, hi in widths)
        ctx.shape, ctx.crop, ctx.positive, ctx.mode = x.shape, crop, positive, mode
        cropped = x[crop]
        if mode == "constant":
            return xp.pad(cropped, positive, mode="constant", constant_values=value)
        return xp.pad(cropped, positive, mode=_NUMPY_MODE[mode])

    @staticmethod
    def backward(ctx, grad):
        xp = namespace(grad)
        inner_shape = tuple(s.stop - s.start for s in ctx.crop)
        if ctx.mode == "constant":
            inner = grad[tuple(slice(lo, lo + n) for (lo, _), n in zip(ctx.positive, inner_shape))]
        else:
            inner = _fold_padding(grad, ctx.positive, inner_shape, ctx.mode)
        grad_x = xp.zeros(ctx.shape, dtype=grad.dtype)
        grad_x[ctx.crop] = inner
        return grad_x, None, None, None


def _fold_padding(grad, widths, inner_shape, mode):
    """Adjoint of reflect/replicate padding, one dim at a time: every padded entry is
    a copy of some inner entry, so its gradient is added onto that entry."""
    xp = namespace(grad)
    for axis, ((lo, hi), n) in enumerate(zip(widths, inner_shape)):
        if lo == 0 and hi == 0:
            continue
        moved = xp.moveaxis(grad, axis, 0)
        folded = moved[lo : lo + n].copy()
        for k in range(lo):  # padded position lo-1-k mirrors inner position k+1
            source = k + 1 if mode == "reflect" else 0
            folded[source] += moved[lo - 1 - k]
        for k in range(hi):  # padded position lo+n+k mirrors inner position n-2-k
            source = n - 2 - k if mode == "reflect" else n - 1
            folded[source] += moved[lo + n + k]
        grad = xp.moveaxis(folded, 0, axis)
    return grad


def pad(input, pad, mode="constant", value=0.0):  # noqa: A002 - PyTorch's argument names
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: input must be a Tensor, got {type(input).__name__}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: expected an even number of values covering at most {input.ndim} dims, got {pad}"
        )
    if mode not in _NUMPY_MODE:
        raise ValueError(f"pad: mode must be one of {sorted(_NUMPY_MODE)}, got {mode!r}")
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)]  # last dim first
    widths = [(0, 0)] * (input.ndim - len(pairs)) + pairs[::-1]
    for axis, (lo, hi) in enumerate(widths):
        size = input.shape[axis]
        if size + lo + hi <= 0 or size + min(lo, 0) + min(hi, 0) < 0:
            raise ValueError(f"pad: padding {pad} gives an empty dim {axis} for input {input.shape}")
        if mode == "reflect" and (lo >= size or hi >= size):
            raise ValueError(
                f"pad: reflect padding ({lo}, {hi}) must be smaller than the dim size {size} "
                f"(dim {axis} of input {input.shape})"
            )
    return Pad.apply(input, tuple(widths), mode, value)
