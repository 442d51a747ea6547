"""Pooling layers: modules that store the pooling geometry and call nn.functional.

As in PyTorch, ``stride`` defaults to ``kernel_size``, and the arguments are stored as
given (an int stays an int), which is what ``repr`` shows.
"""
from .. import checks
from . import functional as F
from .module import Module


class MaxPool2d(Module):
    """out[n, c, oh, ow] = max of the KH x KW window (dilated by DH, DW) at
    (oh * SH - PH, ow * SW - PW); padding counts as -infinity."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):  # noqa: A002 - PyTorch's argument name
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """out[n, c, oh, ow] = mean of the KH x KW window at (oh * SH - PH, ow * SW - PW);
    ``count_include_pad`` says whether padded zeros count in the divisor."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):  # noqa: A002
        kwargs = {"ceil_mode": self.ceil_mode, "count_include_pad": self.count_include_pad}
        if self.divisor_override is not None:
            kwargs["divisor_override"] = self.divisor_override
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, **kwargs)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed (OH, OW): window i spans [floor(i H / OH), ceil((i+1) H / OH))."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):  # noqa: A002
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed (OH, OW), with the windows of AdaptiveAvgPool2d."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input):  # noqa: A002
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class MaxUnpool2d(Module):
    """The partial inverse of MaxPool2d: puts each value at the position its index
    (from ``return_indices=True``) names, zeros elsewhere."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = checks.pair("MaxUnpool2d", "kernel_size", kernel_size)
        self.stride = checks.pair("MaxUnpool2d", "stride", stride if stride is not None else kernel_size)
        self.padding = checks.pair("MaxUnpool2d", "padding", padding)

    def forward(self, input, indices, output_size=None):  # noqa: A002
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
