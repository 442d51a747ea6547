"""Shared by the CUDA launcher tests: where the test sources are, and a stand-in for CuPy."""
import pathlib
import types

import numpy as np

from minitorch_cv.kernels.cuda.runtime.launcher import KERNEL_DIR, CudaSource

TEST_SOURCE_DIR = pathlib.Path(__file__).resolve().parent / "cuda_sources"

# Every .cu file of the project, found on disk so that new kernel families are covered.
PROJECT_SOURCES = sorted(KERNEL_DIR.glob("*.cu"))
TEST_SOURCES = sorted(TEST_SOURCE_DIR.glob("*.cu"))


def checks_source():
    return CudaSource(TEST_SOURCE_DIR / "emulation_checks.cu")


def line_of(source, text):
    """The 1-based line of the first line of ``source`` that contains ``text``."""
    for number, line in enumerate(source.text.split("\n"), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {source.path}")


def thread_count():
    """OS threads of this process (Linux: one entry per thread in /proc/self/task)."""
    return len(list(pathlib.Path("/proc/self/task").iterdir()))


# ---------------------------------------------------------------------- fake CuPy
class FakeCupyArray:
    """Just enough of cupy.ndarray for the launcher: dtype, shape, flags."""

    def __init__(self, array):
        self.array = np.asarray(array)

    dtype = property(lambda self: self.array.dtype)
    shape = property(lambda self: self.array.shape)
    size = property(lambda self: self.array.size)
    ndim = property(lambda self: self.array.ndim)
    flags = property(lambda self: self.array.flags)


class FakeCompileException(Exception):
    pass


class FakeRawModule:
    """Records what the CuPy executor asks of cupy.RawModule; kernels record their calls."""

    created = []

    def __init__(self, code=None, options=()):
        self.code, self.options = code, options
        self.looked_up = []
        self.calls = []
        self.compile_error = None
        FakeRawModule.created.append(self)

    def get_function(self, name):
        self.looked_up.append(name)
        if self.compile_error is not None:
            raise FakeCompileException(self.compile_error)

        def kernel(grid, block, args):
            self.calls.append((name, grid, block, args))

        return kernel


def fake_cupy():
    FakeRawModule.created = []
    return types.SimpleNamespace(
        ndarray=FakeCupyArray,
        RawModule=FakeRawModule,
        ascontiguousarray=lambda a: FakeCupyArray(np.ascontiguousarray(a.array)),
    )
