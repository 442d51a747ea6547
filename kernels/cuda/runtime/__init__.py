"""How a .cu kernel family is loaded and launched: the launcher (argument checks, the
choice of executor), the CuPy executor (GPU), the CPU emulation of CUDA and its headers.

A kernel family's launch wrappers import what they need from here::

    from .runtime import BLOCK, CudaSource, grid_1d, int32s

See README.md in this folder.
"""
from .errors import CudaBuildError, CudaLaunchError
from .launcher import BLOCK, CudaSource, grid_1d, int32s
from .source_parser import CudaSourceError

__all__ = [
    "BLOCK",
    "CudaSource",
    "grid_1d",
    "int32s",
    "CudaBuildError",
    "CudaLaunchError",
    "CudaSourceError",
]
