"""``minitorch_cv.cuda``: the GPU, as PyTorch users know it."""
from . import devices as _device


def is_available():
    """True when CuPy is installed and sees at least one GPU."""
    return _device.gpu_available()


def device_count():
    if not is_available():
        return 0
    return _device.cupy.cuda.runtime.getDeviceCount()


def synchronize():
    """Wait for all queued GPU work (useful before reading a timer)."""
    if is_available():
        _device.cupy.cuda.Device().synchronize()


def manual_seed(seed):
    """Seed the GPU random generator only (``minitorch_cv.manual_seed`` seeds both)."""
    from .random import _seed_gpu

    _seed_gpu(seed)
