"""The one launcher through which every CUDA kernel of the project runs.

A kernel family keeps its CUDA C in ``kernels/cuda/<family>.cu`` and its Python launch
wrappers in ``kernels/cuda/<family>.py``, which import from this package::

    from .runtime import BLOCK, CudaSource, grid_1d

    _SOURCE = CudaSource("batch_norm.cu")

    def batch_norm_scale_shift(x, scale, shift):
        y = namespace(x).empty(x.shape, dtype=x.dtype)     # outputs: allocated contiguous
        total = y.size
        _SOURCE.launch("batch_norm_scale_shift", grid=grid_1d(total), block=(BLOCK,),
                       args=(x, scale, shift, y, np.int64(total), np.int32(C), np.int64(S)))
        return y

``launch`` checks every argument against the kernel's parameter list read from the .cu
file, then hands the launch to an executor chosen by the arrays: CuPy arrays run on the
GPU (``cupy_executor``), NumPy arrays on the CPU emulation of CUDA (``emulation``). The
same wrapper therefore serves both devices.

The rules it enforces (each would otherwise be a silent wrong answer on the GPU):

- Scalars are NumPy scalars of exactly the parameter's type: ``np.int32`` for ``int``,
  ``np.int64`` for ``long long``, ``x.dtype.type(alpha)`` for ``scalar_t``. A bare
  Python int never reaches a kernel: CuPy would pass it as 64 bits, and an ``int``
  parameter would read half of it.
- Arrays have the element type of their pointer parameter (``scalar_t`` is the build's
  float or double). Inputs (``const`` pointers) are made C-contiguous, since a kernel
  sees raw memory and ignores strides; outputs (non-``const`` pointers) are never
  copied, because the kernel's writes would land in the copy: the wrapper must
  allocate them contiguous, and a non-contiguous or read-only output is an error.
- The build is chosen by dtype: the arrays of ``scalar_t*`` parameters decide (they
  must agree), ``dtype=`` overrides for kernels without such arrays.
- grid and block are within the limits of every GPU since compute capability 7.0
  (1024 threads per block).
"""
import pathlib
import threading

import numpy as np

from minitorch_cv import devices as _device

from . import cupy_executor, emulation
from .errors import CudaBuildError, CudaLaunchError
from .source_parser import CudaSourceError, parse_kernels, paste_headers, project_headers

__all__ = [
    "BLOCK",
    "CudaSource",
    "grid_1d",
    "CudaBuildError",
    "CudaLaunchError",
    "CudaSourceError",
]

BLOCK = 256  # threads per block for one-thread-per-element kernels
KERNEL_DIR = pathlib.Path(__file__).resolve().parent.parent  # kernels/cuda: the kernel families

MAX_THREADS_PER_BLOCK = 1024
MAX_BLOCK = (1024, 1024, 64)
MAX_GRID = (2**31 - 1, 65535, 65535)

# Each supported build: NumPy dtype -> the C type that scalar_t names.
SCALAR_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}

# C types of kernel parameters -> the NumPy dtype of the values (or array elements) they take.
C_TYPES = {
    "float": np.dtype(np.float32),
    "double": np.dtype(np.float64),
    "int": np.dtype(np.int32),
    "unsigned int": np.dtype(np.uint32),
    "long long": np.dtype(np.int64),
    "unsigned long long": np.dtype(np.uint64),
    "size_t": np.dtype(np.uint64),
    "short": np.dtype(np.int16),
    "unsigned short": np.dtype(np.uint16),
    "char": np.dtype(np.int8),
    "signed char": np.dtype(np.int8),
    "unsigned char": np.dtype(np.uint8),
    "bool": np.dtype(np.bool_),
}


def grid_1d(total, block=BLOCK):
    """Blocks of ``block`` threads needed for ``total`` threads: ceil(total / block), at least 1."""
    total, block = int(total), int(block)
    if total < 0:
        raise ValueError(f"total: expected a number of threads >= 0, got {total}")
    if block < 1:
        raise ValueError(f"block: expected >= 1 threads, got {block}")
    return max(1, -(-total // block))


def int32s(*values):
    """``values`` as np.int32, for a kernel's ``int`` parameters."""
    return tuple(np.int32(v) for v in values)


class CudaSource:
    """A .cu file whose kernels can be launched on CuPy (GPU) or NumPy (emulated) arrays.

    ``filename`` is relative to kernels/cuda (where the project's sources live, installed
    as package data), or an absolute path. The file is read and parsed on first use and
    built lazily, once per (executor, dtype).
    """

    def __init__(self, filename):
        path = pathlib.Path(filename)
        self.path = path if path.is_absolute() else KERNEL_DIR / path
        if not self.path.is_file():
            raise FileNotFoundError(f"CUDA source {self.path} does not exist")
        self._text = None
        self._headers = None
        self._kernels = None
        self._builds = {}
        self._lock = threading.Lock()

    def __repr__(self):
        return f"CudaSource({self.path.name!r})"

    @property
    def text(self):
        if self._text is None:
            self._text = self.path.read_text()
        return self._text

    @property
    def headers(self):
        """{name: text} of the project headers the file includes (``#include "name"``
        of a file beside it, such as block_reduce.cuh)."""
        if self._headers is None:
            paths = project_headers(self.text, self.path.parent)
            self._headers = {name: path.read_text() for name, path in paths.items()}
        return self._headers

    @property
    def kernels(self):
        """{name: source_parser.Kernel} for every kernel in the file."""
        if self._kernels is None:
            self._kernels = parse_kernels(self.text, self.path.name, self.headers.values())
        return self._kernels

    def compiled_text(self, source_label, full_paths):
        """The text both executors compile: the file with its project headers pasted in
        (labelled by full path or by name in the #line directives, like the file)."""
        directory = self.path.parent

        def header_label(name):
            return str(directory / name) if full_paths else name

        return paste_headers(self.text, self.headers, source_label, header_label)

    # ------------------------------------------------------------------ builds
    def gpu_code(self, dtype):
        """The code given to cupy.RawModule for ``dtype`` (also compiled by the nvcc tests)."""
        return self.gpu_code_for(_scalar_type(dtype))

    def gpu_code_for(self, ctype):
        text = self.compiled_text(self.path.name, full_paths=False)
        return cupy_executor.module_code(text, self.path.name, ctype)

    def build(self, executor, dtype):
        """The build of this source for ``executor`` ("emulation" or "gpu") and ``dtype``."""
        ctype = _scalar_type(dtype)
        key = (executor, ctype)
        with self._lock:
            if key not in self._builds:
                if executor == "emulation":
                    build = emulation.EmulationBuild(self, ctype)
                else:
                    build = cupy_executor.CupyBuild(_device.cupy, self, ctype)
                self._builds[key] = build
            return self._builds[key]

    # ------------------------------------------------------------------ launch
    def launch(self, name, grid, block, args, dtype=None):
        """Launches kernel ``name`` with ``grid`` x ``block`` threads on ``args``.

        grid, block: an int or a tuple of up to 3 ints. args: arrays (all NumPy or all
        CuPy) and NumPy scalars, one per kernel parameter. dtype: the build to use
        (float32 or float64); by default the dtype of the arrays passed for scalar_t*
        parameters.
        """
        kernel = self._kernel(name)
        args = tuple(args)
        if len(args) != len(kernel.parameters):
            raise TypeError(
                f"kernel {name} takes {len(kernel.parameters)} arguments "
                f"({', '.join(str(p) for p in kernel.parameters)}), got {len(args)}"
            )
        for parameter, value in zip(kernel.parameters, args):
            _check_kind(name, parameter, value)
        executor = _executor(name, kernel, args)
        dtype = _build_dtype(name, kernel, args, dtype)
        prepared = tuple(_prepare(name, p, v, dtype) for p, v in zip(kernel.parameters, args))
        grid = _dims(grid, "grid", MAX_GRID)
        block = _dims(block, "block", MAX_BLOCK)
        if block[0] * block[1] * block[2] > MAX_THREADS_PER_BLOCK:
            raise ValueError(f"block: at most {MAX_THREADS_PER_BLOCK} threads per block, got {block}")
        self.build(executor, dtype).launch(name, grid, block, prepared, kernel.synchronizes)

    def launch_per_element(self, name, total, args):
        """Launches ``name`` with one thread per element of an array of ``total`` elements,
        in blocks of BLOCK threads (the kernel bounds-checks its index against ``total``);
        launches nothing when ``total`` is 0."""
        if total:
            self.launch(name, grid=grid_1d(total), block=(BLOCK,), args=args)

    def _kernel(self, name):
        kernels = self.kernels
        if name not in kernels:
            raise ValueError(f"{self.path.name} has no kernel named {name!r}; its kernels: {sorted(kernels)}")
        return kernels[name]


# ---------------------------------------------------------------------- checks
def _scalar_type(dtype):
    dtype = np.dtype(dtype)
    if dtype not in SCALAR_TYPES:
        raise TypeError(f"dtype: CUDA kernels are built for float32 and float64, got {dtype}")
    return SCALAR_TYPES[dtype]


def _is_array(value):
    return isinstance(value, np.ndarray) or _device.device_of_array(value) == _device.GPU


def _describe(value):
    if _is_array(value):
        return f"{type(value).__module__.split('.')[0]} array of {value.dtype}"
    if isinstance(value, np.generic):
        return f"np.{value.dtype.name} scalar"
    return f"Python {type(value).__name__}"


def _expected_dtype(kernel_name, parameter, build_dtype):
    if parameter.type_name == "scalar_t":
        return build_dtype
    if parameter.type_name in C_TYPES:
        return C_TYPES[parameter.type_name]
    if parameter.type_name in ("long", "unsigned long"):
        raise TypeError(
            f"kernel {kernel_name}, parameter '{parameter}': 'long' is 64 bits on Linux but 32 on "
            "Windows; declare it 'long long' (np.int64) or 'int' (np.int32)"
        )
    raise TypeError(
        f"kernel {kernel_name}, parameter '{parameter}': the launcher does not know the C type "
        f"'{parameter.type_name}' (it knows scalar_t, {', '.join(C_TYPES)})"
    )


def _check_kind(kernel_name, parameter, value):
    """An array for a pointer, a NumPy scalar for a value; never a bare Python number."""
    if parameter.pointer:
        if not _is_array(value):
            raise TypeError(
                f"kernel {kernel_name}, parameter '{parameter}': expected a NumPy or CuPy array, "
                f"got {_describe(value)}"
            )
        return
    if isinstance(value, (bool, int, float)) and not isinstance(value, np.generic):  # np.float64 is a float
        raise TypeError(
            f"kernel {kernel_name}, parameter '{parameter}': got a bare Python {type(value).__name__} "
            f"({value!r}); a bare Python int must never reach a kernel (CuPy would pass it as 64 bits): "
            "pass a NumPy scalar of the parameter's type, e.g. np.int32(C), np.int64(total), x.dtype.type(alpha)"
        )
    if not isinstance(value, np.generic):
        raise TypeError(
            f"kernel {kernel_name}, parameter '{parameter}': expected a NumPy scalar, got {_describe(value)}"
        )


def _executor(kernel_name, kernel, args):
    """"gpu" when the arrays are CuPy, "emulation" when they are NumPy; never both."""
    numpy_params, cupy_params = [], []
    for parameter, value in zip(kernel.parameters, args):
        if isinstance(value, np.ndarray):
            numpy_params.append(parameter.name)
        elif _is_array(value):
            cupy_params.append(parameter.name)
    if numpy_params and cupy_params:
        raise TypeError(
            f"kernel {kernel_name}: arrays must all be NumPy (CPU emulation) or all CuPy (GPU); "
            f"got NumPy for {numpy_params} and CuPy for {cupy_params}"
        )
    if not numpy_params and not cupy_params:
        raise TypeError(f"kernel {kernel_name}: no array argument, so no device to run on")
    return "gpu" if cupy_params else "emulation"


def _build_dtype(kernel_name, kernel, args, dtype):
    if dtype is not None:
        dtype = np.dtype(dtype)
        _scalar_type(dtype)
        return dtype
    # The arrays whose element type is the build's: those of scalar_t* parameters (a
    # float* or double* parameter takes the same dtype whatever the build).
    found = {}  # dtype -> first parameter holding it
    for parameter, value in zip(kernel.parameters, args):
        if parameter.pointer and parameter.type_name == "scalar_t":
            found.setdefault(np.dtype(value.dtype), parameter.name)
    if len(found) > 1:
        (a, pa), (b, pb) = list(found.items())[:2]
        raise TypeError(
            f"kernel {kernel_name}: the scalar_t arrays must share one dtype, got {a} ('{pa}') "
            f"and {b} ('{pb}'); convert them, or pass dtype= to choose the build"
        )
    if not found:
        raise TypeError(
            f"kernel {kernel_name}: no scalar_t array to choose the build from; pass dtype=np.float32 or np.float64"
        )
    (dtype,) = found
    if dtype not in SCALAR_TYPES:
        raise TypeError(f"kernel {kernel_name}: CUDA kernels are built for float32 and float64, got {dtype}")
    return dtype


def _prepare(kernel_name, parameter, value, build_dtype):
    """Checks ``value`` against ``parameter``; returns it ready to pass (contiguous)."""
    expected = _expected_dtype(kernel_name, parameter, build_dtype)
    if not parameter.pointer:
        if value.dtype != expected:
            raise TypeError(
                f"kernel {kernel_name}, parameter '{parameter}': expected np.{expected.name}, "
                f"got {_describe(value)}"
            )
        return value
    if value.dtype != expected:
        raise TypeError(
            f"kernel {kernel_name}, parameter '{parameter}': expected an array of {expected} "
            f"(scalar_t = {SCALAR_TYPES[build_dtype]} in this build), got {_describe(value)}"
        )
    if parameter.const:
        if isinstance(value, np.ndarray):
            return np.require(value, requirements=("C", "A"))
        return _device.cupy.ascontiguousarray(value)
    # An output: a copy would receive the kernel's writes and be thrown away.
    if not value.flags.c_contiguous:
        raise ValueError(
            f"kernel {kernel_name}, parameter '{parameter}': an output array must be allocated "
            "C-contiguous by the wrapper (a contiguous copy would receive the kernel's writes and "
            "lose them); if the kernel only reads it, declare the pointer const"
        )
    if isinstance(value, np.ndarray) and not (value.flags.writeable and value.flags.aligned):
        raise ValueError(
            f"kernel {kernel_name}, parameter '{parameter}': an output array must be writeable and aligned"
        )
    return value


def _dims(value, what, limits):
    """An int or a tuple of up to 3 ints -> (x, y, z), each within the GPU's limits."""
    dims = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if not 1 <= len(dims) <= 3 or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in dims):
        raise TypeError(f"{what}: expected an int or a tuple of 1 to 3 ints, got {value!r}")
    dims = tuple(int(d) for d in dims) + (1,) * (3 - len(dims))
    for d, limit, axis in zip(dims, limits, "xyz"):
        if not 1 <= d <= limit:
            raise ValueError(f"{what}: the {axis} dimension must be in [1, {limit}], got {d} (in {value!r})")
    return dims
