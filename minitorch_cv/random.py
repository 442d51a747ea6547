"""Random number generators, one per device, seeded together by ``manual_seed``.

The CPU generator is a NumPy ``Generator`` (PCG64); its state is a plain dict of ints, so
a checkpoint can store it and resumed training draws exactly the same numbers. On the
GPU, CuPy's generator is used; its state cannot be read back, so ``get_rng_state``
records the seed and the number of reseeds instead (see ``set_rng_state``).

``use_cpu_generator(g)`` makes one thread draw its CPU numbers from ``g`` for a while:
the DataLoader builds each batch under the batch's own generator, so that random
transforms and data sets that draw from minitorch_cv's generator give the same batches
in any thread or worker process, without touching the training thread's stream.
"""
import contextlib
import threading

import numpy as np

from . import devices as _device

_cpu_generator = np.random.default_rng(0)
_thread = threading.local()  # .cpu_override: a generator set by use_cpu_generator
_gpu_generator = None
_gpu_seed = 0


def manual_seed(seed):
    """Seed the CPU and (when present) the GPU generators, like ``torch.manual_seed``."""
    global _cpu_generator
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed}")
    _cpu_generator = np.random.default_rng(seed)
    _seed_gpu(seed)


def _seed_gpu(seed):
    global _gpu_generator, _gpu_seed
    _gpu_seed = int(seed)
    _gpu_generator = None  # created lazily with this seed on first GPU use


def generator(device):
    """The generator that draws random numbers for arrays on ``device``."""
    global _gpu_generator
    if _device.normalize(device) == _device.CPU:
        override = getattr(_thread, "cpu_override", None)
        return _cpu_generator if override is None else override
    if _gpu_generator is None:
        cupy = _device.array_module(_device.GPU)
        _gpu_generator = cupy.random.default_rng(_gpu_seed)
    return _gpu_generator


def get_rng_state():
    """A JSON-able snapshot of the CPU generator state (and the GPU seed)."""
    return {"cpu": _cpu_generator.bit_generator.state, "gpu_seed": _gpu_seed}


def set_rng_state(state):
    """Restore a snapshot taken by ``get_rng_state``.

    The GPU generator is reseeded from the saved seed: draws on the GPU after a resume
    are reproducible but not a continuation of the interrupted stream.
    """
    global _cpu_generator
    bit_generator = np.random.PCG64()
    bit_generator.state = state["cpu"]
    _cpu_generator = np.random.Generator(bit_generator)
    _seed_gpu(state.get("gpu_seed", 0))


@contextlib.contextmanager
def use_cpu_generator(numpy_generator):
    """Inside the block, this thread's CPU draws come from ``numpy_generator``."""
    previous = getattr(_thread, "cpu_override", None)
    _thread.cpu_override = numpy_generator
    try:
        yield numpy_generator
    finally:
        _thread.cpu_override = previous
