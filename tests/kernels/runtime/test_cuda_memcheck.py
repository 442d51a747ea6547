"""The launcher's guard rails: the bounds-checking build of the emulation (memcheck), the
block sizes kernels declare, and the sealed build cache.

Kernels: tests/kernels/runtime/cuda_sources/memcheck_checks.cu.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from minitorch_cv.kernels.cuda.runtime import emulation
from minitorch_cv.kernels.cuda.runtime.constant_expression import evaluate
from minitorch_cv.kernels.cuda.runtime.launcher import CudaLaunchError, CudaSource, CudaSourceError, int32s
from tests.kernels.runtime.cuda_testing import TEST_SOURCE_DIR

MEMCHECK_SOURCE = TEST_SOURCE_DIR / "memcheck_checks.cu"


@pytest.fixture
def source(monkeypatch, tmp_path):
    """memcheck_checks.cu in the bounds-checked build (the default), in a cache of its own."""
    monkeypatch.setenv("MINITORCH_CV_CACHE", str(tmp_path))
    monkeypatch.delenv(emulation.MEMCHECK_VARIABLE, raising=False)
    return CudaSource(MEMCHECK_SOURCE)


# ------------------------------------------------------------------- memcheck
@pytest.mark.parametrize("shift, index", [(3, 10), (-1, -1)])
def test_a_read_outside_an_array_names_the_kernel_thread_array_and_index(source, shift, index):
    x = np.arange(10, dtype=np.float32)
    out = np.full(8, -5, dtype=np.float32)
    with pytest.raises(CudaLaunchError) as info:
        source.launch("shifted_copy", grid=1, block=8, args=(x, out, np.int64(8), np.int64(shift)))
    message = str(info.value)
    thread = 7 if shift > 0 else 0
    assert message.startswith("kernel shifted_copy: out-of-bounds access: ")
    assert f"thread ({thread},0,0) of block (0,0,0)" in message
    assert f"x[{index}], outside the array's 10 elements" in message


def test_only_the_accesses_inside_the_arrays_are_made(source):
    x = np.arange(10, dtype=np.float64)
    out = np.full(8, -5, dtype=np.float64)
    with pytest.raises(CudaLaunchError):
        source.launch("shifted_copy", grid=1, block=8, args=(x, out, np.int64(8), np.int64(3)))
    np.testing.assert_array_equal(out[:7], x[3:10])  # thread 7 read a zero instead of x[10]
    assert out[7] == 0


def test_a_write_outside_an_array_is_not_made(source):
    guard = np.full(16, 7, dtype=np.float32)
    out = guard[4:12]  # the kernel's array, with live memory on either side
    with pytest.raises(CudaLaunchError, match=r"thread \(6,0,0\).* out\[8\], outside the array's 8 elements"):
        source.launch("shifted_fill", grid=1, block=8, args=(out, np.int64(8), np.int64(2)))
    np.testing.assert_array_equal(guard[12:], 7)  # untouched
    np.testing.assert_array_equal(out[2:], 1)


def test_accesses_through_device_functions_and_pointer_variables_are_checked(source):
    x = np.zeros((4, 5), dtype=np.float32)
    out = np.empty(4, dtype=np.float32)
    source.launch("row_reader", grid=1, block=4, args=(x, out, *int32s(4, 5, 4)))  # in bounds
    with pytest.raises(CudaLaunchError, match=r"thread \(3,0,0\).*x\[20\]"):
        source.launch("row_reader", grid=1, block=4, args=(x, out, *int32s(4, 5, 5)))


def test_shared_memory_templates_and_atomics_work_in_the_checked_build(source):
    x = np.arange(64, dtype=np.float32)
    count = np.zeros(2, dtype=np.uint32)
    out = np.empty(2, dtype=np.float32)
    source.launch("block_firsts", grid=2, block=32, args=(x, count, out))
    np.testing.assert_array_equal(out, [0, 32])
    np.testing.assert_array_equal(count, [1, 1])
    with pytest.raises(CudaLaunchError, match=r"count\[2\]"):  # the atomic's address is checked
        source.launch("block_firsts", grid=3, block=32, args=(np.arange(96, dtype=np.float32), count, np.empty(3, np.float32)))


@pytest.mark.parametrize("setting, checked", [(None, True), ("1", True), ("0", False), ("off", False)])
def test_the_checked_build_is_the_default(monkeypatch, tmp_path, setting, checked):
    monkeypatch.setenv("MINITORCH_CV_CACHE", str(tmp_path))
    if setting is None:
        monkeypatch.delenv(emulation.MEMCHECK_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(emulation.MEMCHECK_VARIABLE, setting)
    source = CudaSource(MEMCHECK_SOURCE)
    x = np.arange(10, dtype=np.float32)
    out = np.empty(8, dtype=np.float32)
    source.launch("shifted_copy", grid=1, block=8, args=(x, out, np.int64(8), np.int64(1)))
    assert source.build("emulation", np.float32).memcheck == checked
    (library,) = (tmp_path / "cuda-emulation").glob("*.so")
    assert ("-memcheck-" in library.name) == checked


def test_the_rewrite_keeps_lines_and_leaves_casts_and_template_types():
    text = (
        "template <typename T>\n__device__ T f(T v, T* s) { return *s; }\n"
        "__global__ void k(const scalar_t* __restrict__ x, unsigned long long* n,\n"
        "                  float* y) { const scalar_t* row = x + 1; y[0] = ((float*)y)[0] * 2; }\n"
    )
    rewritten = emulation.memcheck_text(text)
    assert rewritten.count("\n") == text.count("\n")
    assert "mtcv::Checked<mtcv::nondeduced<T>> s" in rewritten
    assert "mtcv::Checked<const scalar_t> x" in rewritten and "mtcv::Checked<unsigned long long> n" in rewritten
    assert "mtcv::Checked<const scalar_t> row" in rewritten and "((float*)y)" in rewritten


# ----------------------------------------------------------------- block rules
def test_declared_block_sizes_are_enforced(source):
    out = np.zeros(256, dtype=np.float32)
    source.launch("at_most_64", grid=1, block=64, args=(out,))
    with pytest.raises(ValueError, match=r"at_most_64 declares __launch_bounds__\(64\).*128 threads"):
        source.launch("at_most_64", grid=1, block=128, args=(out,))
    source.launch("exactly_side_squared", grid=1, block=64, args=(out,))  # float: SIDE = 8
    with pytest.raises(ValueError, match=r"EXACT_BLOCK_SIZE\(16\): blocks of exactly 16 threads"):
        source.launch("exactly_side_squared", grid=1, block=64, args=(out.astype(np.float64),))
    with pytest.raises(ValueError, match="whole warps"):
        source.launch("warp_total", grid=1, block=100, args=(out, out.copy()))


def test_the_project_kernels_declare_their_block_assumptions():
    attention = CudaSource("attention.cu").kernels
    assert attention["attention_forward"].block_rule == "exactly"
    assert dict(attention["attention_forward"].block_threads) == {"float": 256, "double": 64}
    assert CudaSource("batch_norm.cu").kernels["batch_norm_statistics"].whole_warps
    assert not CudaSource("batch_norm.cu").kernels["batch_norm_scale_shift"].whole_warps


@pytest.mark.parametrize("text, ctype, value", [
    ("SIDE * SIDE", "float", 64), ("SIDE * SIDE", "double", 16), ("(1 << 2)", "float", None),
    ("-7 / 2 + 10 % 4", "float", -1), ("1 ? 2 : 3 || 0", "float", 2), ("!0 && 3 >= 3", "float", 1),
    ("0x20u", "double", 32), ("UNKNOWN + 1", "float", None),
])  # fmt: skip
def test_constant_expressions(text, ctype, value):
    macros = {"SIDE": "(sizeof(scalar_t) == 4 ? 8 : 4)"}
    if value is None:
        with pytest.raises(CudaSourceError, match="evaluate"):
            evaluate(text, macros, ctype)
    else:
        assert evaluate(text, macros, ctype) == value


def test_ints_that_do_not_fit_a_kernel_int_are_a_clear_error():
    assert int32s(2**31 - 1, -(2**31)) == (2**31 - 1, -(2**31))
    with pytest.raises(ValueError, match="does not fit a CUDA kernel's int parameter"):
        int32s(1, 2**40)


# ---------------------------------------------------------------- build cache
_CHILD = """
import numpy as np
from minitorch_cv.kernels.cuda.runtime.launcher import CudaSource
out = np.empty(8, dtype=np.float32)
CudaSource({path!r}).launch("shifted_copy", grid=1, block=8, args=(np.arange(8, dtype=np.float32), out, np.int64(8), np.int64(0)))
print(out.sum())
"""


@pytest.mark.parametrize("damage", ["truncate", "garbage", "unsealed"])
def test_a_damaged_cached_library_is_rebuilt_not_loaded(tmp_path, damage):
    """A truncated library would be mapped by dlopen and crash the process with SIGBUS
    when touched; garbage gives 'wrong ELF class'. Both are rebuilt (in a fresh process,
    as a later run would meet them)."""
    env = dict(os.environ, MINITORCH_CV_CACHE=str(tmp_path))
    env[emulation.MEMCHECK_VARIABLE] = "0"
    child = [sys.executable, "-c", _CHILD.format(path=str(MEMCHECK_SOURCE))]
    assert subprocess.run(child, env=env, capture_output=True, text=True).stdout.strip() == "28.0"
    (library,) = (tmp_path / "cuda-emulation").glob("memcheck_checks-float-*.so")
    content = library.read_bytes()
    if damage == "truncate":
        library.write_bytes(content[: len(content) // 3])
    elif damage == "garbage":
        library.write_bytes(b"\x7fELF\x01" + os.urandom(len(content)))
    else:  # a complete library without the seal: what an older launcher cached
        library.write_bytes(content[: -emulation.SEAL_BYTES])
    result = subprocess.run(child, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "28.0"
    assert library.read_bytes() != b"" and emulation.is_sealed(library)


def test_no_temporary_build_folder_is_left_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITORCH_CV_CACHE", str(tmp_path))
    CudaSource(MEMCHECK_SOURCE).build("emulation", np.float64, memcheck=False)
    assert sorted(p.suffix for p in (tmp_path / "cuda-emulation").iterdir()) == [".so"]


# ---------------------------------------------------------- arithmetic faults
@pytest.mark.parametrize("kernel", ["divide", "divide_between_barriers"])
@pytest.mark.parametrize("checked", ["1", "0"])
def test_an_integer_division_by_zero_is_a_launch_error_not_a_dead_process(monkeypatch, tmp_path, kernel, checked):
    monkeypatch.setenv("MINITORCH_CV_CACHE", str(tmp_path))
    monkeypatch.setenv(emulation.MEMCHECK_VARIABLE, checked)
    source = CudaSource(MEMCHECK_SOURCE)
    out = np.zeros(64, dtype=np.int32)
    source.launch(kernel, grid=2, block=64, args=(out, np.int32(4)), dtype=np.float32)
    np.testing.assert_array_equal(out, np.arange(64) // 4)
    with pytest.raises(CudaLaunchError, match=r"integer division by zero \(SIGFPE\) in thread \(0,0,0\)"):
        source.launch(kernel, grid=2, block=64, args=(out, np.int32(0)), dtype=np.float32)
    source.launch(kernel, grid=2, block=64, args=(out, np.int32(2)), dtype=np.float32)  # the next launch works
    np.testing.assert_array_equal(out, np.arange(64) // 2)


def test_a_division_by_zero_outside_the_kernels_still_reaches_its_own_handler():
    """The emulation's SIGFPE handler is installed only during a launch."""
    code = (
        "import ctypes, signal, numpy as np\n"
        "from minitorch_cv.kernels.cuda.runtime.launcher import CudaSource\n"
        f"source = CudaSource({str(MEMCHECK_SOURCE)!r})\n"
        "out = np.zeros(4, dtype=np.int32)\n"
        "source.launch('divide', grid=1, block=4, args=(out, np.int32(1)), dtype=np.float32)\n"
        "signal.signal(signal.SIGFPE, lambda *a: (print('python handler'), exit(0)))\n"
        "signal.raise_signal(signal.SIGFPE)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "python handler", result.stderr
