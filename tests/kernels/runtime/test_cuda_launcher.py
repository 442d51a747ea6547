"""The launcher: argument checks, executor choice, contiguity, builds and their cache."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from minitorch_cv import devices as mt_device
from minitorch_cv.kernels.cuda.runtime import cupy_executor
from minitorch_cv.kernels.cuda.runtime.launcher import (
    BLOCK,
    CudaBuildError,
    CudaSource,
    CudaSourceError,
    grid_1d,
)
from tests.kernels.runtime.cuda_testing import (
    FakeCompileException,
    FakeCupyArray,
    checks_source,
    fake_cupy,
    thread_count,
)

DTYPES = [np.float32, np.float64]


def all_types_args(dtype):
    """Arguments for emulation_checks.cu's all_types, and the sum it must compute."""
    args = (
        np.array([1.5], dtype=dtype),
        np.array([2.0], dtype=np.float32),
        np.array([3.25], dtype=np.float64),
        np.array([-4], dtype=np.int32),
        np.array([5 * 2**33], dtype=np.int64),
        np.array([250], dtype=np.uint8),
        np.array([True]),
        np.zeros(1, dtype=dtype),
        np.int32(-7),
        np.int64(3 * 2**40),  # needs all 64 bits
        np.float32(0.5),
        np.float64(0.125),
        dtype(8.0),
        np.uint32(2**31 + 1),
        np.bool_(True),
    )
    expected = 1.5 + 2.0 + 3.25 - 4 + 5 * 2**33 + 250 + 1 - 7 + 3 * 2**40 + 0.5 + 0.125 + 8.0 + 2**31 + 1 + 1
    return args, expected


# ---------------------------------------------------------------------- grid_1d
@pytest.mark.parametrize(
    "total, block, blocks", [(0, 256, 1), (1, 256, 1), (256, 256, 1), (257, 256, 2), (1000, 128, 8)]
)
def test_grid_1d_covers_every_thread(total, block, blocks):
    assert grid_1d(total, block) == blocks
    assert grid_1d(total, block) * block >= total


def test_grid_1d_default_block_and_bad_values():
    assert grid_1d(BLOCK * 3 + 1) == 4
    with pytest.raises(ValueError, match="total"):
        grid_1d(-1)
    with pytest.raises(ValueError, match="block"):
        grid_1d(10, 0)


# ---------------------------------------------------------------------- arguments
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_parameter_type_reaches_the_kernel_intact(dtype):
    args, expected = all_types_args(dtype)
    checks_source().launch("all_types", grid=1, block=1, args=args)
    np.testing.assert_allclose(args[7][0], expected, rtol=1e-6 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("value", [3, 3.0, True])
def test_bare_python_numbers_are_rejected(value):
    args, _ = all_types_args(np.float32)
    args = args[:8] + (value,) + args[9:]
    with pytest.raises(TypeError, match="all_types, parameter 'int n': got a bare Python .*must never reach a kernel"):
        checks_source().launch("all_types", grid=1, block=1, args=args)


@pytest.mark.parametrize(
    "position, value, message",
    [
        (8, np.int64(1), r"all_types, parameter 'int n': expected np.int32, got np.int64"),
        (9, np.int32(1), r"parameter 'long long m': expected np.int64, got np.int32"),
        (10, np.float64(1), r"parameter 'float alpha': expected np.float32, got np.float64"),
        (12, np.float64(1), r"parameter 'scalar_t gamma': expected np.float32, got np.float64"),
        (14, np.int32(1), r"parameter 'bool flag': expected np.bool, got np.int32"),
        (2, np.zeros(1, np.float32), r"parameter 'const double\* d': expected an array of float64 .*got numpy array of float32"),
        (3, np.zeros(1, np.int64), r"parameter 'const int\* i': expected an array of int32"),
        (8, np.zeros(1, np.int32), r"parameter 'int n': expected a NumPy scalar, got numpy array"),
        (3, np.int32(1), r"parameter 'const int\* i': expected a NumPy or CuPy array, got np.int32 scalar"),
    ],
)
def test_wrong_argument_types_name_kernel_parameter_and_both_types(position, value, message):
    args, _ = all_types_args(np.float32)
    args = args[:position] + (value,) + args[position + 1 :]
    with pytest.raises(TypeError, match=message):
        checks_source().launch("all_types", grid=1, block=1, args=args)


def test_wrong_number_of_arguments():
    with pytest.raises(TypeError, match=r"kernel affine takes 3 arguments .*got 2"):
        checks_source().launch("affine", grid=1, block=1, args=(np.zeros(1), np.zeros(1)))


def test_scalar_t_arrays_of_two_dtypes_are_rejected_naming_both():
    x, out = np.zeros(4, np.float32), np.zeros(4, np.float64)
    with pytest.raises(TypeError, match=r"float32 \('x'\) and float64 \('out'\)"):
        checks_source().launch("affine", grid=1, block=4, args=(x, out, np.int64(4)))


def test_dtype_chooses_the_build_when_no_floating_array_does():
    out = np.zeros(6, dtype=np.int32)
    with pytest.raises(TypeError, match="pass dtype="):
        checks_source().launch("coordinates", grid=1, block=1, args=(out,))
    checks_source().launch("coordinates", grid=1, block=1, args=(out,), dtype=np.float64)
    np.testing.assert_array_equal(out, np.zeros(6))
    with pytest.raises(TypeError, match="float32 and float64"):
        checks_source().launch("coordinates", grid=1, block=1, args=(out,), dtype=np.float16)


def test_half_precision_arrays_have_no_build():
    x = np.zeros(4, np.float16)
    with pytest.raises(TypeError, match="built for float32 and float64, got float16"):
        checks_source().launch("affine", grid=1, block=4, args=(x, x.copy(), np.int64(4)))


def test_unknown_kernel_lists_the_kernels():
    with pytest.raises(ValueError, match=r"no kernel named 'afine'.*'affine'"):
        checks_source().launch("afine", grid=1, block=1, args=())


def test_missing_source_file():
    with pytest.raises(FileNotFoundError, match="no_such_family.cu"):
        CudaSource("no_such_family.cu")


# ---------------------------------------------------------------------- contiguity
@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs_are_made_contiguous(dtype):
    base = np.arange(40, dtype=dtype).reshape(4, 10)
    x = base.T[::2]  # neither C- nor F-contiguous
    out = np.empty(x.shape, dtype=dtype)
    checks_source().launch("affine", grid=grid_1d(x.size), block=BLOCK, args=(x, out, np.int64(x.size)))
    np.testing.assert_array_equal(out, 2 * x + 1)


def test_non_contiguous_or_read_only_outputs_are_rejected():
    x = np.arange(8, dtype=np.float64)
    out = np.zeros(16)[::2]
    with pytest.raises(ValueError, match="parameter 'scalar_t\\* __restrict__ out': an output array must be allocated C-contiguous"):
        checks_source().launch("affine", grid=1, block=8, args=(x, out, np.int64(8)))
    read_only = np.zeros(8)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        checks_source().launch("affine", grid=1, block=8, args=(x, read_only, np.int64(8)))


# ---------------------------------------------------------------------- launch geometry
@pytest.mark.parametrize(
    "grid, block, error, message",
    [
        (1, 1025, ValueError, r"block: the x dimension must be in \[1, 1024\], got 1025"),
        (1, (32, 32, 2), ValueError, "at most 1024 threads"),
        (0, 1, ValueError, r"grid: the x dimension must be in \[1, 2147483647\]"),
        (1, (1, 1, 65), ValueError, r"block: the z dimension must be in \[1, 64\]"),
        ((1, 1, 1, 1), 1, TypeError, "grid: expected an int or a tuple of 1 to 3 ints"),
        (1.0, 1, TypeError, "grid: expected an int"),
    ],
)
def test_launch_geometry_is_checked(grid, block, error, message):
    x = np.zeros(1)
    with pytest.raises(error, match=message):
        checks_source().launch("affine", grid=grid, block=block, args=(x, x.copy(), np.int64(1)))


# ---------------------------------------------------------------------- executors
def test_numpy_and_cupy_arrays_cannot_be_mixed(monkeypatch):
    monkeypatch.setattr(mt_device, "cupy", fake_cupy())
    x = np.zeros(4, np.float32)
    out = FakeCupyArray(np.zeros(4, np.float32))
    with pytest.raises(TypeError, match=r"kernel affine: arrays must all be NumPy \(CPU emulation\) or all CuPy \(GPU\); got NumPy for \['x'\] and CuPy for \['out'\]"):
        checks_source().launch("affine", grid=1, block=4, args=(x, out, np.int64(4)))


def test_cupy_arrays_go_to_a_raw_module_built_once_per_dtype(monkeypatch):
    """The GPU path without a GPU: a stand-in CuPy records what the executor does."""
    cupy = fake_cupy()
    monkeypatch.setattr(mt_device, "cupy", cupy)
    source = checks_source()
    x = FakeCupyArray(np.arange(12, dtype=np.float32).reshape(3, 4).T)  # non-contiguous input
    out = FakeCupyArray(np.zeros(12, dtype=np.float32))
    for _ in range(2):
        source.launch("affine", grid=grid_1d(12), block=(BLOCK,), args=(x, out, np.int64(12)))
    (module,) = cupy.RawModule.created  # compiled lazily, once
    assert module.code == source.gpu_code(np.float32)
    assert module.code.startswith("// GPU build of emulation_checks.cu with scalar_t = float")
    assert "#define scalar_t float\n" in module.code and '#line 1 "emulation_checks.cu"\n' in module.code
    assert module.options == cupy_executor.OPTIONS
    assert module.looked_up == ["affine"]  # the function is looked up once and kept
    name, grid, block, args = module.calls[0]
    assert (name, grid, block) == ("affine", (1, 1, 1), (BLOCK, 1, 1))
    assert args[0] is not x and args[0].flags.c_contiguous  # the input was made contiguous
    np.testing.assert_array_equal(args[0].array, x.array)
    assert args[1] is out  # the output is passed as it is
    assert type(args[2]) is np.int64

    source.launch("affine", grid=1, block=4, args=(FakeCupyArray(np.zeros(4)), FakeCupyArray(np.zeros(4)), np.int64(4)))
    assert len(cupy.RawModule.created) == 2
    assert "#define scalar_t double\n" in cupy.RawModule.created[1].code


def test_nvrtc_errors_show_the_offending_line(monkeypatch):
    cupy = fake_cupy()
    monkeypatch.setattr(mt_device, "cupy", cupy)
    monkeypatch.setattr(cupy_executor, "compile_exception", lambda: FakeCompileException)
    source = checks_source()
    source.build("gpu", np.float32)._module.compile_error = (
        'emulation_checks.cu(18): error: identifier "oops" is undefined\n1 error detected'
    )
    x = FakeCupyArray(np.zeros(4, np.float32))
    with pytest.raises(CudaBuildError) as info:
        source.launch("affine", grid=1, block=4, args=(x, FakeCupyArray(np.zeros(4, np.float32)), np.int64(4)))
    message = str(info.value)
    assert "GPU build of emulation_checks.cu (scalar_t = float) with NVRTC failed" in message
    assert "emulation_checks.cu:18: error: identifier \"oops\" is undefined" in message
    assert source.text.split("\n")[17] in message


# ---------------------------------------------------------------------- builds
BROKEN = """\
// A kernel with a mistake on line 6.
extern "C" __global__ void broken(scalar_t* out, long long total) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    // the next line uses a name that does not exist
    out[i] = undefined_name * 2;
}
"""


def test_build_error_shows_the_compiler_message_and_the_offending_line(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITORCH_CV_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "broken.cu"
    path.write_text(BROKEN)
    with pytest.raises(CudaBuildError) as info:
        CudaSource(path).launch("broken", grid=1, block=1, args=(np.zeros(1), np.int64(1)))
    message = str(info.value)
    assert "CPU emulation build of broken.cu (scalar_t = double)" in message
    assert "broken.cu:6: error:" in message and "undefined_name" in message
    assert "     6 |     out[i] = undefined_name * 2;" in message


def test_errors_in_an_included_header_point_into_the_header(tmp_path, monkeypatch):
    """A project header is pasted in place; errors after it keep the .cu file's lines."""
    monkeypatch.setenv("MINITORCH_CV_CACHE", str(tmp_path / "cache"))
    (tmp_path / "helper.cuh").write_text("// line 1\n__device__ scalar_t twice(scalar_t v) { return 2 * oops; }\n")
    path = tmp_path / "uses.cu"
    path.write_text('#include "helper.cuh"\nextern "C" __global__ void k(scalar_t* out) { out[0] = twice(out[0]); }\n')
    with pytest.raises(CudaBuildError) as info:
        CudaSource(path).launch("k", grid=1, block=1, args=(np.zeros(1),))
    message = str(info.value)
    assert "helper.cuh:2: error:" in message and "oops" in message
    assert "     2 | __device__ scalar_t twice(scalar_t v) { return 2 * oops; }" in message
    (tmp_path / "helper.cuh").write_text("// line 1\n__device__ scalar_t twice(scalar_t v) { return 2 * v; }\n")
    path.write_text(path.read_text() + "this_line_is_wrong;\n")
    with pytest.raises(CudaBuildError, match="uses.cu:3: error:"):
        CudaSource(path).launch("k", grid=1, block=1, args=(np.zeros(1),))


def test_source_errors_are_reported_before_building(tmp_path):
    path = tmp_path / "unnamed.cu"
    path.write_text("__global__ void k(float* x) { x[0] = 1; }\n")
    with pytest.raises(CudaSourceError, match=r'kernel k \(unnamed.cu:1\) must be declared extern "C"'):
        CudaSource(path).launch("k", grid=1, block=1, args=(np.zeros(1, np.float32),))


def test_second_build_loads_the_cached_library(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITORCH_CV_CACHE", str(tmp_path))
    path = tmp_path / "double_it.cu"
    path.write_text(BROKEN.replace("undefined_name", "out[i]").replace("broken", "double_it"))
    first = CudaSource(path).build("emulation", np.float32)
    assert first.compiled
    modified = first.path.stat().st_mtime_ns
    second = CudaSource(path).build("emulation", np.float32)  # a new process would do the same
    assert not second.compiled
    assert second.path == first.path and second.path.stat().st_mtime_ns == modified
    path.write_text(path.read_text().replace("* 2", "* 3"))  # a changed source is rebuilt
    third = CudaSource(path).build("emulation", np.float32)
    assert third.compiled and third.path != first.path


CONCURRENT_BUILD = """
import sys
import numpy as np
from minitorch_cv.kernels.cuda.runtime.launcher import CudaSource
out = np.zeros(300, dtype=np.float32)
CudaSource(sys.argv[1]).launch("fill", grid=2, block=256, args=(out, np.int64(300)))
assert (out == 7).all(), out
print("ok")
"""


def test_two_processes_building_the_same_source_at_once(tmp_path):
    """Both compile into temporary files and rename them into place: neither can load
    a half-written library, and the cache ends with one library and no leftovers."""
    path = tmp_path / "fill.cu"
    path.write_text(
        textwrap.dedent(
            """\
            extern "C" __global__ void fill(scalar_t* out, long long total) {
                const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
                if (i < total) out[i] = 7;
            }
            """
        )
    )
    env = dict(os.environ, MINITORCH_CV_CACHE=str(tmp_path / "cache"))
    processes = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT_BUILD, str(path)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        assert stdout.strip() == "ok"
    assert [p.name for p in (tmp_path / "cache" / "cuda-emulation").iterdir()] == [
        p.name for p in (tmp_path / "cache" / "cuda-emulation").glob("fill-float-*.so")
    ]
    assert len(list((tmp_path / "cache" / "cuda-emulation").iterdir())) == 1


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through Linux's /proc")
def test_launches_leave_no_threads_behind(monkeypatch):
    monkeypatch.setenv("MINITORCH_CV_EMULATION_THREADS", "4")
    source = checks_source()
    x = np.arange(1024, dtype=np.float32)
    out = np.empty_like(x)
    source.launch("affine", grid=8, block=128, args=(x, out, np.int64(1024)))  # builds first
    before = thread_count()
    for _ in range(5):
        source.launch("affine", grid=8, block=128, args=(x, out, np.int64(1024)))  # direct mode
        source.launch("reverse_in_block", grid=8, block=128, args=(x, out))  # fibers
    # At most `before`: a thread started by an earlier test (a data loader's prefetch thread)
    # may finish meanwhile; a launch that leaked its workers would add four.
    assert thread_count() <= before
