"""Which kernel implementation serves a tensor: the only place ops meet kernels.

An op asks for a kernel family by name, for the device of its inputs::

    conv = backend.kernels("conv", x.device)      # a module
    col = conv.im2col(x.array, ...)                # arrays in, arrays out

"gpu" tensors always get ``kernels/cuda`` (CUDA C through CuPy). "cpu" tensors get
``kernels/cpu`` (Numba) unless ``use_cpu_kernels`` says otherwise: with "reference"
the NumPy specification runs, and with "cuda" the CUDA C kernels run on the CPU
through the emulation executor, so every op and its gradients can be tested through
the CUDA code on a machine without a GPU.
"""
import contextlib
import importlib

from . import devices as _device

IMPLEMENTATIONS = ("reference", "cpu", "cuda")
_cpu_implementation = "cpu"


def kernels(family, device):
    """The kernel module of ``family`` ("conv", "pool", ...) that serves ``device``."""
    if _device.normalize(device) == _device.GPU:
        implementation = "cuda"
    else:
        implementation = _cpu_implementation
    return importlib.import_module(f"minitorch_cv.kernels.{implementation}.{family}")


def cpu_implementation():
    return _cpu_implementation


@contextlib.contextmanager
def use_cpu_kernels(implementation):
    """Run "cpu" tensors through another kernel implementation inside the block."""
    global _cpu_implementation
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation: expected one of {IMPLEMENTATIONS}, got {implementation!r}")
    previous = _cpu_implementation
    _cpu_implementation = implementation
    try:
        yield
    finally:
        _cpu_implementation = previous
