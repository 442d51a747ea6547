"""Every .cu file builds: in the CPU emulation, with nvcc, and with NVRTC (what CuPy uses).

The files are found on disk (kernels/cuda/*.cu and the test sources), so a new kernel
family is covered without touching this test. nvcc and NVRTC compile exactly the text
that the CuPy executor hands to cupy.RawModule (CudaSource.gpu_code).
"""
import ctypes
import ctypes.util
import glob
import os
import shutil
import site
import subprocess
import sys

import numpy as np
import pytest

from minitorch_cv.kernels.cuda.runtime import cupy_executor
from minitorch_cv.kernels.cuda.runtime.errors import CudaBuildError, format_build_error
from minitorch_cv.kernels.cuda.runtime.launcher import CudaSource
from tests.kernels.runtime.cuda_testing import PROJECT_SOURCES, TEST_SOURCES

SOURCES = PROJECT_SOURCES + TEST_SOURCES
SOURCE_IDS = [path.name for path in SOURCES]
DTYPES = [np.float32, np.float64]
ARCHITECTURES = ("80", "90")  # A100 and H100

NVCC = shutil.which("nvcc")
requires_nvcc = pytest.mark.skipif(NVCC is None, reason="nvcc is not on PATH (install the CUDA toolkit to run)")


def test_the_project_has_cuda_sources():
    assert {"batch_norm.cu", "scatter.cu"} <= {path.name for path in PROJECT_SOURCES}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("path", SOURCES, ids=SOURCE_IDS)
def test_builds_in_emulation(path, dtype):
    source = CudaSource(path)
    assert source.kernels, f"{path.name} defines no kernel"
    build = source.build("emulation", dtype)
    for name in source.kernels:
        build._stub(name)  # the launch stub of every kernel is in the library


@requires_nvcc
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("path", SOURCES, ids=SOURCE_IDS)
def test_compiles_with_nvcc(path, dtype, tmp_path):
    """Compile only (no GPU needed): device code for sm_80 and sm_90 in one fat binary."""
    unit = tmp_path / path.name
    unit.write_text(CudaSource(path).gpu_code(dtype))
    command = [NVCC, "--fatbin", *(f"-gencode=arch=compute_{a},code=sm_{a}" for a in ARCHITECTURES)]
    command += [option.replace("--std", "-std") for option in cupy_executor.OPTIONS]
    result = subprocess.run([*command, "-o", str(tmp_path / "out.fatbin"), str(unit)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + result.stdout


@requires_nvcc
def test_nvcc_errors_are_reported_at_the_cu_line(tmp_path):
    path = tmp_path / "typo.cu"
    path.write_text('extern "C" __global__ void typo(scalar_t* out) {\n    out[0] = undefined_name;\n}\n')
    source = CudaSource(path)
    unit = tmp_path / "unit.cu"
    unit.write_text(source.gpu_code(np.float32))
    result = subprocess.run([NVCC, "--ptx", "-o", str(tmp_path / "x.ptx"), str(unit)], capture_output=True, text=True)
    assert result.returncode != 0
    message = format_build_error("nvcc build", path, source.text, result.stderr)
    assert "typo.cu:2: error:" in message and "undefined_name" in message
    assert "     2 |     out[0] = undefined_name;" in message


# ---------------------------------------------------------------------- NVRTC
def _find_nvrtc():
    """libnvrtc from the system, a CUDA toolkit, or the nvidia-cuda-nvrtc wheel; or None."""
    candidates = []
    for directory in [*site.getsitepackages(), site.getusersitepackages()]:
        candidates += sorted(glob.glob(os.path.join(directory, "nvidia", "*", "lib", "libnvrtc.so*")))
    for root in (os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if root:
            candidates += sorted(glob.glob(os.path.join(root, "lib64", "libnvrtc.so*")))
    found = ctypes.util.find_library("nvrtc")
    if found:
        candidates.append(found)
    for candidate in candidates:
        if "alt" in os.path.basename(candidate) or "builtins" in os.path.basename(candidate):
            continue
        try:
            # NVRTC opens its builtins library by name: load it first from the same place.
            for builtins in glob.glob(os.path.join(os.path.dirname(candidate), "libnvrtc-builtins.so*")):
                if "alt" not in os.path.basename(builtins):
                    ctypes.CDLL(builtins, mode=ctypes.RTLD_GLOBAL)
            return ctypes.CDLL(candidate)
        except OSError:
            continue
    return None


NVRTC = _find_nvrtc() if sys.platform.startswith("linux") else None
requires_nvrtc = pytest.mark.skipif(
    NVRTC is None, reason="libnvrtc not found (pip install nvidia-cuda-nvrtc, or a CUDA toolkit with NVRTC)"
)


def nvrtc_compile(code, options):
    """(status, log) of compiling ``code`` with NVRTC, as cupy.RawModule does."""
    program = ctypes.c_void_p()
    assert NVRTC.nvrtcCreateProgram(ctypes.byref(program), code.encode(), b"module.cu", 0, None, None) == 0
    encoded = (ctypes.c_char_p * len(options))(*[option.encode() for option in options])
    status = NVRTC.nvrtcCompileProgram(program, len(options), encoded)
    size = ctypes.c_size_t()
    NVRTC.nvrtcGetProgramLogSize(program, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    NVRTC.nvrtcGetProgramLog(program, log)
    NVRTC.nvrtcDestroyProgram(ctypes.byref(program))
    return status, log.value.decode(errors="replace")


@requires_nvrtc
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("path", SOURCES, ids=SOURCE_IDS)
def test_compiles_with_nvrtc(path, dtype):
    """NVRTC sees no host headers (unlike nvcc): INFINITY, FLT_MAX or an #include that
    nvcc would accept fail here, as they would in cupy.RawModule."""
    code = CudaSource(path).gpu_code(dtype)
    for architecture in ARCHITECTURES:
        status, log = nvrtc_compile(code, [*cupy_executor.OPTIONS, f"-arch=compute_{architecture}"])
        assert status == 0, log


@requires_nvrtc
def test_nvrtc_errors_become_build_errors_at_the_cu_line(tmp_path):
    path = tmp_path / "host_constant.cu"
    path.write_text('extern "C" __global__ void k(scalar_t* out) {\n    out[0] = FLT_MAX;\n}\n')
    source = CudaSource(path)
    status, log = nvrtc_compile(source.gpu_code(np.float32), list(cupy_executor.OPTIONS))
    assert status != 0
    error = CudaBuildError(format_build_error("NVRTC build", path, source.text, log))
    assert "host_constant.cu:2: error: identifier \"FLT_MAX\" is undefined" in str(error)
