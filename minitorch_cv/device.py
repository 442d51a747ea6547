"""Devices: where a tensor's array lives.

There are two: ``"cpu"`` (a NumPy array) and ``"gpu"`` (a CuPy array). ``"cuda"`` and
``"cuda:0"`` are accepted as spellings of ``"gpu"`` for PyTorch users.
"""
import numpy as np

try:  # CuPy is an optional extra; without it only the CPU exists.
    import cupy
except Exception:  # ImportError, or a CUDA runtime that fails to load
    cupy = None

CPU = "cpu"
GPU = "gpu"


def normalize(device):
    """Return ``"cpu"`` or ``"gpu"`` for any accepted spelling of a device."""
    if device is None:
        return CPU
    name = str(device).lower()
    if name == "cpu":
        return CPU
    if name in ("gpu", "cuda") or name.startswith("cuda:") or name.startswith("gpu:"):
        return GPU
    raise ValueError(f"device: expected 'cpu' or 'gpu' (or 'cuda'), got {device!r}")


def is_device_name(value):
    """Whether ``value`` is a string that names a device ("cpu", "gpu", "cuda:0", ...):
    how ``Tensor.to`` and ``Module.to`` tell a device from a dtype among their arguments."""
    if not isinstance(value, str):
        return False
    try:
        normalize(value)
    except ValueError:
        return False
    return True


def gpu_available():
    if cupy is None:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no driver, or no device visible
        return False


def array_module(device):
    """NumPy for "cpu", CuPy for "gpu" (with a clear error when there is no GPU)."""
    if normalize(device) == CPU:
        return np
    if not gpu_available():
        raise RuntimeError(
            "device 'gpu' requested but CuPy cannot see a GPU "
            "(install the extra with `pip install -e .[gpu]` on a machine with CUDA)"
        )
    return cupy


def device_of_array(array):
    """The device an array lives on: CuPy arrays are on "gpu", everything else on "cpu"."""
    if cupy is not None and isinstance(array, cupy.ndarray):
        return GPU
    return CPU


def to_device(array, device):
    """Copy ``array`` to ``device`` (no copy when it is already there)."""
    device = normalize(device)
    if device_of_array(array) == device:
        return array
    if device == CPU:
        return cupy.asnumpy(array)
    return array_module(GPU).asarray(array)


def namespace(array):
    """The array module (NumPy or CuPy) that ``array`` belongs to."""
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy
    return np
