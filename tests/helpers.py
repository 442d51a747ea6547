"""Helpers shared by the tests: devices, kernel implementations, tolerances."""
import importlib

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import devices as mt_device

GPU = mt.cuda.is_available()
requires_gpu = pytest.mark.skipif(not GPU, reason="CuPy sees no GPU on this machine")

# Parametrize device-level tests with this: "gpu" runs only where CuPy sees a GPU.
DEVICES = ["cpu", pytest.param("gpu", marks=requires_gpu)]

# Kernel implementations checked against kernels/reference:
#   "cpu"       Numba, on NumPy arrays
#   "cuda"      the CUDA C kernels through the CPU emulation executor, on NumPy arrays
#   "cuda-gpu"  the same CUDA C kernels through CuPy on a real GPU
KERNEL_IMPLEMENTATIONS = ["cpu", "cuda", pytest.param("cuda-gpu", marks=requires_gpu)]

# Tolerances per dtype for comparing two implementations of the same computation
# (different summation orders, fused vs unfused arithmetic).
TOLERANCES = {
    np.dtype("float32"): {"rtol": 1e-4, "atol": 1e-5},
    np.dtype("float64"): {"rtol": 1e-10, "atol": 1e-12},
}


def tolerance(dtype):
    return TOLERANCES[np.dtype(dtype)]


def kernel_module(implementation, family):
    """The module of kernel ``family`` for a test implementation name."""
    package = "cuda" if implementation.startswith("cuda") else implementation
    return importlib.import_module(f"minitorch_cv.kernels.{package}.{family}")


def to_implementation(implementation, value):
    """Move NumPy arrays where the implementation expects them (the GPU for cuda-gpu)."""
    if implementation == "cuda-gpu" and isinstance(value, np.ndarray):
        return mt_device.to_device(value, "gpu")
    return value


def call_kernel(implementation, family, name, *args, **kwargs):
    """Run kernel ``name`` of ``family`` with the given implementation; NumPy out."""
    fn = getattr(kernel_module(implementation, family), name)
    args = [to_implementation(implementation, a) for a in args]
    kwargs = {k: to_implementation(implementation, v) for k, v in kwargs.items()}
    result = fn(*args, **kwargs)
    return _to_numpy(result)


def _to_numpy(result):
    if isinstance(result, tuple):
        return tuple(_to_numpy(r) for r in result)
    if result is None or isinstance(result, (int, float)):
        return result
    return mt_device.to_device(result, "cpu")


def assert_close(actual, expected, dtype=None, **overrides):
    """Compare tensors/arrays (moved to NumPy) with the tolerance of their dtype."""
    actual = actual.detach().numpy() if isinstance(actual, mt.Tensor) else mt_device.to_device(actual, "cpu")
    expected = expected.detach().numpy() if isinstance(expected, mt.Tensor) else mt_device.to_device(expected, "cpu")
    tol = dict(tolerance(dtype or np.result_type(actual.dtype, np.float32)))
    tol.update(overrides)
    np.testing.assert_allclose(actual, expected, **tol)
