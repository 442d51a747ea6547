"""backend: each kernel family names its three implementations, and use_cpu_kernels
chooses which one serves "cpu" arrays."""
import pathlib
import subprocess
import sys

import pytest

from minitorch_cv import backend
from minitorch_cv.kernels import cpu, cuda, reference
from tests.helpers import requires_gpu

KERNELS_DIR = pathlib.Path(reference.__file__).resolve().parent.parent


def test_every_family_on_disk_is_in_the_table_with_its_own_three_modules():
    on_disk = {path.stem for path in (KERNELS_DIR / "reference").glob("*.py") if not path.stem.startswith("_")}
    assert set(backend.FAMILIES) == on_disk
    for name, family in backend.FAMILIES.items():
        assert family.reference.__name__ == f"{reference.__name__}.{name}"
        assert family.cpu.__name__ == f"{cpu.__name__}.{name}"
        assert family.cuda.__name__ == f"{cuda.__name__}.{name}"


@pytest.mark.parametrize("implementation", backend.IMPLEMENTATIONS)
def test_use_cpu_kernels_chooses_the_module_that_serves_cpu_arrays(implementation):
    assert backend.CONV.on("cpu") is backend.CONV.cpu
    with backend.use_cpu_kernels(implementation):
        assert backend.CONV.on("cpu") is getattr(backend.CONV, implementation)
    assert backend.CONV.on("cpu") is backend.CONV.cpu


def test_gpu_arrays_always_get_the_cuda_kernels():
    with backend.use_cpu_kernels("reference"):
        assert backend.CONV.on("gpu") is backend.CONV.cuda
        assert backend.CONV.on("cuda:0") is backend.CONV.cuda


def test_an_unknown_implementation_is_refused():
    with pytest.raises(ValueError, match="implementation: expected one of"):
        with backend.use_cpu_kernels("numba"):
            pass


def test_importing_the_kernels_builds_nothing():
    """The backend imports every kernel module; Numba compiles on the first call and the
    launcher builds a .cu file on the first launch, so importing stays cheap."""
    code = (
        "import minitorch_cv\n"
        "from minitorch_cv import backend\n"
        "assert all(not dispatcher.signatures for dispatcher in backend.CONV.cpu.__dict__.values()"
        " if hasattr(dispatcher, 'signatures'))\n"
        "assert not backend.CONV.cuda._SOURCE._builds\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@requires_gpu
def test_the_gpu_runs_the_cuda_kernels():
    import minitorch_cv as mt

    x = mt.randn(1, 1, 4, 4, device="gpu")
    w = mt.randn(1, 1, 3, 3, device="gpu")
    assert mt.nn.functional.conv2d(x, w).device == "gpu"
