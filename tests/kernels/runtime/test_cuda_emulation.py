"""The CPU emulation behaves like a GPU: shared memory, barriers, atomics, warps.

The kernels are in tests/kernels/runtime/cuda_sources/emulation_checks.cu (valid CUDA, also
compiled by nvcc in test_cuda_sources.py).
"""
import platform
import sys
from math import erf

import numpy as np
import pytest

from minitorch_cv.kernels.cuda.runtime.launcher import CudaLaunchError, CudaSource, grid_1d
from tests.kernels.runtime.cuda_testing import checks_source, line_of

DTYPES = [np.float32, np.float64]
REVERSE_BLOCK = 128  # as in emulation_checks.cu


@pytest.fixture(autouse=True)
def several_workers(monkeypatch):
    """Blocks on four OS threads even on a small machine, so that they really overlap."""
    monkeypatch.setenv("MINITORCH_CV_EMULATION_THREADS", "4")


def test_the_launcher_sees_which_kernels_synchronize():
    kernels = checks_source().kernels
    assert not kernels["affine"].synchronizes  # runs as plain loops
    assert not kernels["atomic_bins"].synchronizes
    assert kernels["reverse_in_block"].synchronizes
    assert kernels["warp_butterfly"].synchronizes
    assert kernels["rotate_in_block"].synchronizes  # through a __device__ function


@pytest.mark.parametrize("dtype", DTYPES)
def test_shared_memory_and_barrier_within_a_block(dtype):
    blocks = 24
    x = np.random.default_rng(0).standard_normal(blocks * REVERSE_BLOCK).astype(dtype)
    out = np.empty_like(x)
    checks_source().launch("reverse_in_block", grid=blocks, block=REVERSE_BLOCK, args=(x, out))
    np.testing.assert_array_equal(out, x.reshape(blocks, REVERSE_BLOCK)[:, ::-1].reshape(-1))


def test_shared_memory_is_private_to_each_block():
    leaks = np.zeros(1, dtype=np.uint32)
    checks_source().launch("shared_privacy", grid=64, block=REVERSE_BLOCK, args=(leaks,), dtype=np.float32)
    assert leaks[0] == 0


def test_synchronizing_device_functions_run_with_the_whole_block():
    x = np.arange(3 * REVERSE_BLOCK, dtype=np.float32)
    out = np.empty_like(x)
    checks_source().launch("rotate_in_block", grid=3, block=REVERSE_BLOCK, args=(x, out))
    np.testing.assert_array_equal(out, np.roll(x.reshape(3, REVERSE_BLOCK), -1, axis=1).reshape(-1))


def test_a_barrier_that_a_returned_thread_never_reaches_is_an_error():
    source = checks_source()
    line = line_of(source, "if (threadIdx.x == 3) return;") + 1
    with pytest.raises(CudaLaunchError) as info:
        source.launch("early_return_barrier", grid=4, block=64, args=(np.zeros(64, np.float32),))
    message = str(info.value)
    assert message.startswith("kernel early_return_barrier: barrier divergence")
    assert "1 of 64 threads have returned" in message
    assert f"63 wait at __syncthreads() (line {line})" in message


def test_threads_waiting_at_different_barriers_is_an_error():
    source = checks_source()
    odd = line_of(source, "if (threadIdx.x % 2 == 1) {") + 2  # the odd threads' barrier
    with pytest.raises(CudaLaunchError) as info:
        source.launch("split_barrier", grid=1, block=32, args=(np.zeros(32, np.float32),))
    message = str(info.value)
    assert "barrier divergence" in message
    assert f"16 wait at __syncthreads() (line {odd})" in message
    assert f"16 wait at __syncthreads() (line {odd + 2})" in message


def test_atomics_under_contention_across_blocks():
    bins, total = 3, 400 * 256
    int_bins = np.zeros(bins, np.int32)
    uint_bins = np.zeros(bins, np.uint32)
    ull_bins = np.zeros(bins, np.uint64)
    float_bins = np.zeros(bins, np.float32)
    double_bins = np.zeros(bins, np.float64)
    checks_source().launch(
        "atomic_bins",
        grid=grid_1d(total),
        block=256,
        args=(int_bins, uint_bins, ull_bins, float_bins, double_bins, np.int32(bins), np.int64(total)),
        dtype=np.float32,
    )
    counts = np.bincount(np.arange(total) % bins)
    np.testing.assert_array_equal(int_bins, counts)
    np.testing.assert_array_equal(uint_bins, 2 * counts)
    np.testing.assert_array_equal(ull_bins, 3 * counts)
    np.testing.assert_array_equal(float_bins, 0.5 * counts)  # exact: multiples of 0.5 below 2^24
    np.testing.assert_array_equal(double_bins, 0.25 * counts)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_warp_butterfly_gives_every_lane_its_warps_sum(dtype):
    blocks, threads = 3, 64
    total = blocks * threads
    x = np.random.default_rng(1).integers(-3, 4, total).astype(dtype)  # small integers: exact sums
    out = np.zeros(total, dtype=dtype)
    checks_source().launch("warp_butterfly", grid=blocks, block=threads, args=(x, out, np.int64(total)))
    warps = x.reshape(-1, 32)
    np.testing.assert_array_equal(out.reshape(-1, 32), np.repeat(warps.sum(axis=1, keepdims=True), 32, axis=1))


def test_warp_exchanges_with_mismatched_masks_are_an_error():
    with pytest.raises(CudaLaunchError, match=r"warp exchange mismatch: lanes wait in __shfl_xor_sync .*mask 0xfffffffd"):
        checks_source().launch("mismatched_masks", grid=1, block=32, args=(np.zeros(32, np.float32),))


def test_three_dimensional_grids_and_blocks():
    grid, block = (3, 2, 2), (4, 3, 2)
    total = np.prod(grid) * np.prod(block)
    out = np.full(6 * total, -1, dtype=np.int32)
    checks_source().launch("coordinates", grid=grid, block=block, args=(out,), dtype=np.float64)
    bz, by, bx, tz, ty, tx = np.meshgrid(
        *(np.arange(n) for n in (grid[2], grid[1], grid[0], block[2], block[1], block[0])), indexing="ij"
    )
    expected = np.stack([bx, by, bz, tx, ty, tz], axis=-1).reshape(-1)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_math_functions(dtype):
    x = np.linspace(0.1, 3.0, 50).astype(dtype)
    out = np.zeros(10 * x.size, dtype=dtype)
    checks_source().launch("math_functions", grid=1, block=64, args=(x, out, np.int64(x.size)))
    x64 = x.astype(np.float64)
    expected = [
        np.exp(x64),
        np.log(x64),
        np.sqrt(x64),
        1 / np.sqrt(x64),
        np.tanh(x64),
        np.array([erf(v) for v in x64]),
        x64**1.5,
        np.maximum(x64, 1) + np.minimum(x64, 1),
        np.maximum(x64, 0.5),
    ]
    out = out.reshape(10, -1)
    rtol = 2e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(np.delete(out, 8, axis=0), np.array(expected), rtol=rtol)
    # Row 8 calls the float functions (expf, logf, fabsf): float precision in both builds.
    x32 = x.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(out[8], np.exp(x32) + np.log(x32) + x32, rtol=2e-6)


def test_the_portable_ucontext_fibers_behave_the_same(tmp_path, monkeypatch):
    """Where there is no hand-written stack switch (other CPUs, macOS) fibers use POSIX
    swapcontext; build that way here too so that the fallback stays tested."""
    monkeypatch.setenv("MINITORCH_CV_CACHE", str(tmp_path))
    monkeypatch.setenv("MINITORCH_CV_EMULATION_CXXFLAGS", "-DMTCV_USE_UCONTEXT")
    test_shared_memory_and_barrier_within_a_block(np.float64)
    test_the_warp_butterfly_gives_every_lane_its_warps_sum(np.float32)
    test_a_barrier_that_a_returned_thread_never_reaches_is_an_error()
    (library,) = (tmp_path / "cuda-emulation").glob("emulation_checks-double-*.so")
    assert b"swapcontext" in library.read_bytes()


@pytest.mark.skipif(platform.machine() != "x86_64" or sys.platform != "linux", reason="the fast switch is x86-64 Linux only")
def test_x86_64_linux_fibers_switch_without_swapcontext(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITORCH_CV_CACHE", str(tmp_path))
    monkeypatch.delenv("MINITORCH_CV_EMULATION_CXXFLAGS", raising=False)
    library = checks_source().build("emulation", np.float32).path
    assert b"swapcontext" not in library.read_bytes()


HIDDEN_BARRIER = """\
// Token pasting hides the barrier from the launcher's reading of the source.
#define PASTE(a, b) a##b
extern "C" __global__ void hidden_barrier(scalar_t* out) {
    PASTE(__sync, threads)();
    out[threadIdx.x] = 1;
}
"""


def test_a_barrier_the_source_analysis_missed_is_reported_not_ignored(tmp_path):
    path = tmp_path / "hidden.cu"
    path.write_text(HIDDEN_BARRIER)
    source = CudaSource(path)
    assert not source.kernels["hidden_barrier"].synchronizes  # what the launcher believed
    with pytest.raises(CudaLaunchError, match=r"__syncthreads\(\) at line 4 ran in direct mode"):
        source.launch("hidden_barrier", grid=1, block=32, args=(np.zeros(32, np.float32),))
    out = np.zeros(1, np.float32)
    source.launch("hidden_barrier", grid=1, block=1, args=(out,))  # one thread: nothing to wait for
    assert out[0] == 1
