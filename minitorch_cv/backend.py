"""Which kernel implementation serves a tensor: the only place ops meet kernels.

Every kernel family has three implementations with the same function names and
signatures: ``kernels/reference`` (NumPy, the specification), ``kernels/cpu`` (Numba) and
``kernels/cuda`` (CUDA C, through CuPy on a GPU or the CPU emulation). Each family is one
``KernelFamily`` below that names its three modules, imported by name, so that
go-to-definition (or grep) leads from an op to all three. An op asks the family for the
module that serves the device of its inputs and calls the kernel by its own name::

    conv = backend.CONV.on(device_of_array(x))    # kernels/cpu/conv.py on the CPU
    col = conv.im2col(x, KH, KW, ...)             # arrays in, arrays out

"gpu" arrays always get ``kernels/cuda``. "cpu" arrays get ``kernels/cpu`` unless
``use_cpu_kernels`` says otherwise: with "reference" the NumPy specification runs, and
with "cuda" the CUDA C kernels run on the CPU through the emulation executor, so every op
and its gradients can be tested through the CUDA code on a machine without a GPU.

Importing a kernel module compiles nothing: Numba compiles a loop on its first call, and
the launcher builds a .cu file on its first launch.
"""
import contextlib
from types import ModuleType
from typing import NamedTuple

from . import devices as _device
from .kernels.cpu import activation as cpu_activation
from .kernels.cpu import attention as cpu_attention
from .kernels.cpu import batch_norm as cpu_batch_norm
from .kernels.cpu import conv as cpu_conv
from .kernels.cpu import deform_conv as cpu_deform_conv
from .kernels.cpu import distance as cpu_distance
from .kernels.cpu import grid_sample as cpu_grid_sample
from .kernels.cpu import group_norm as cpu_group_norm
from .kernels.cpu import layer_norm as cpu_layer_norm
from .kernels.cpu import local_response_norm as cpu_local_response_norm
from .kernels.cpu import optimizer as cpu_optimizer
from .kernels.cpu import pool as cpu_pool
from .kernels.cpu import resample as cpu_resample
from .kernels.cpu import scatter as cpu_scatter
from .kernels.cpu import softmax as cpu_softmax
from .kernels.cpu import winograd as cpu_winograd
from .kernels.cuda import activation as cuda_activation
from .kernels.cuda import attention as cuda_attention
from .kernels.cuda import batch_norm as cuda_batch_norm
from .kernels.cuda import conv as cuda_conv
from .kernels.cuda import deform_conv as cuda_deform_conv
from .kernels.cuda import distance as cuda_distance
from .kernels.cuda import grid_sample as cuda_grid_sample
from .kernels.cuda import group_norm as cuda_group_norm
from .kernels.cuda import layer_norm as cuda_layer_norm
from .kernels.cuda import local_response_norm as cuda_local_response_norm
from .kernels.cuda import optimizer as cuda_optimizer
from .kernels.cuda import pool as cuda_pool
from .kernels.cuda import resample as cuda_resample
from .kernels.cuda import scatter as cuda_scatter
from .kernels.cuda import softmax as cuda_softmax
from .kernels.cuda import winograd as cuda_winograd
from .kernels.reference import activation as reference_activation
from .kernels.reference import attention as reference_attention
from .kernels.reference import batch_norm as reference_batch_norm
from .kernels.reference import conv as reference_conv
from .kernels.reference import deform_conv as reference_deform_conv
from .kernels.reference import distance as reference_distance
from .kernels.reference import grid_sample as reference_grid_sample
from .kernels.reference import group_norm as reference_group_norm
from .kernels.reference import layer_norm as reference_layer_norm
from .kernels.reference import local_response_norm as reference_local_response_norm
from .kernels.reference import optimizer as reference_optimizer
from .kernels.reference import pool as reference_pool
from .kernels.reference import resample as reference_resample
from .kernels.reference import scatter as reference_scatter
from .kernels.reference import softmax as reference_softmax
from .kernels.reference import winograd as reference_winograd

IMPLEMENTATIONS = ("reference", "cpu", "cuda")
_cpu_implementation = "cpu"


class KernelFamily(NamedTuple):
    """The three implementations of one kernel family."""

    reference: ModuleType
    cpu: ModuleType
    cuda: ModuleType

    def on(self, device):
        """The module that serves arrays on ``device`` ("cpu" or "gpu")."""
        if _device.normalize(device) == _device.GPU or _cpu_implementation == "cuda":
            return self.cuda
        if _cpu_implementation == "reference":
            return self.reference
        return self.cpu


ACTIVATION = KernelFamily(reference_activation, cpu_activation, cuda_activation)
ATTENTION = KernelFamily(reference_attention, cpu_attention, cuda_attention)
BATCH_NORM = KernelFamily(reference_batch_norm, cpu_batch_norm, cuda_batch_norm)
CONV = KernelFamily(reference_conv, cpu_conv, cuda_conv)
DEFORM_CONV = KernelFamily(reference_deform_conv, cpu_deform_conv, cuda_deform_conv)
DISTANCE = KernelFamily(reference_distance, cpu_distance, cuda_distance)
GRID_SAMPLE = KernelFamily(reference_grid_sample, cpu_grid_sample, cuda_grid_sample)
GROUP_NORM = KernelFamily(reference_group_norm, cpu_group_norm, cuda_group_norm)
LAYER_NORM = KernelFamily(reference_layer_norm, cpu_layer_norm, cuda_layer_norm)
LOCAL_RESPONSE_NORM = KernelFamily(
    reference_local_response_norm, cpu_local_response_norm, cuda_local_response_norm
)
OPTIMIZER = KernelFamily(reference_optimizer, cpu_optimizer, cuda_optimizer)
POOL = KernelFamily(reference_pool, cpu_pool, cuda_pool)
RESAMPLE = KernelFamily(reference_resample, cpu_resample, cuda_resample)
SCATTER = KernelFamily(reference_scatter, cpu_scatter, cuda_scatter)
SOFTMAX = KernelFamily(reference_softmax, cpu_softmax, cuda_softmax)
WINOGRAD = KernelFamily(reference_winograd, cpu_winograd, cuda_winograd)

# Every family by the name of its files (kernels/<implementation>/<name>.py), for the
# tests and benchmarks that iterate over families; ops use the constants above.
FAMILIES = {
    "activation": ACTIVATION,
    "attention": ATTENTION,
    "batch_norm": BATCH_NORM,
    "conv": CONV,
    "deform_conv": DEFORM_CONV,
    "distance": DISTANCE,
    "grid_sample": GRID_SAMPLE,
    "group_norm": GROUP_NORM,
    "layer_norm": LAYER_NORM,
    "local_response_norm": LOCAL_RESPONSE_NORM,
    "optimizer": OPTIMIZER,
    "pool": POOL,
    "resample": RESAMPLE,
    "scatter": SCATTER,
    "softmax": SOFTMAX,
    "winograd": WINOGRAD,
}


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
