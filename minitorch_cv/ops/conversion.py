"""Copying a tensor, or moving it to another dtype or device, differentiably (the
gradient goes back to the original dtype/device)."""
from .. import devices as _device
from ..autograd import Function


class Clone(Function):
    """A copy in new memory (same shape, dtype, device); the gradient passes unchanged."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.dtype), None


class ToDevice(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.device = _device.device_of_array(x)
        return _device.to_device(x, device)

    @staticmethod
    def backward(ctx, grad):
        return _device.to_device(grad, ctx.device), None


def cast(input, dtype):  # noqa: A002 - PyTorch's argument name
    return Cast.apply(input, dtype)


def to_device(input, device):  # noqa: A002
    return ToDevice.apply(input, _device.normalize(device))


def clone(input, *, memory_format=None):  # noqa: A002
    """A copy of input that shares no memory with it (C-contiguous)."""
    return Clone.apply(input)
