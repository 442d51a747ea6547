"""set_num_threads sizes Numba's pool and NumPy's OpenBLAS pool; import starts Numba's pool."""
import os
import platform
import subprocess
import sys

import numba
import pytest

import minitorch_cv as mt


@pytest.fixture
def restore_threads():
    numba_before, blas_before = mt.get_num_threads(), mt.threads.blas_num_threads()
    yield
    numba.set_num_threads(numba_before)
    if blas_before is not None:
        mt.set_num_threads(min(blas_before, numba.config.NUMBA_NUM_THREADS))
        numba.set_num_threads(numba_before)


def test_set_num_threads_sizes_both_pools(restore_threads):
    mt.set_num_threads(1)
    assert mt.get_num_threads() == 1 == numba.get_num_threads()
    if mt.threads.blas_num_threads() is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS: only Numba's pool is sized")
    assert mt.threads.blas_num_threads() == 1
    if numba.config.NUMBA_NUM_THREADS >= 2:
        mt.set_num_threads(2)
        assert (mt.get_num_threads(), mt.threads.blas_num_threads()) == (2, 2)


@pytest.mark.parametrize("n", [0, -1, 1.5, "2", True, None])
def test_set_num_threads_rejects_non_positive_integers(n):
    with pytest.raises(ValueError, match="n must be a positive integer"):
        mt.set_num_threads(n)


def test_set_num_threads_rejects_more_than_the_pool():
    too_many = numba.config.NUMBA_NUM_THREADS + 1
    with pytest.raises(ValueError, match=f"at most {numba.config.NUMBA_NUM_THREADS}"):
        mt.set_num_threads(too_many)


def _run(code, **env):
    environment = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    environment.update(env)
    result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


IMPORT_AND_REPORT = (
    "import os, minitorch_cv\n"
    "from numba.np.ufunc import parallel\n"
    "print(parallel._is_initialized, os.environ.get('OMP_WAIT_POLICY', '-'))\n"
)


def test_import_starts_numba_pool_and_leaves_the_environment_as_it_was():
    assert _run(IMPORT_AND_REPORT) == ["True", "-"]


def test_a_wait_policy_of_the_user_is_kept():
    assert _run(IMPORT_AND_REPORT, OMP_WAIT_POLICY="ACTIVE") == ["True", "ACTIVE"]


def test_blas_core_name_follows_openblas_coretype():
    """OpenBLAS reads OPENBLAS_CORETYPE as it loads; blas_core_name reports its choice."""
    code = "import minitorch_cv as mt\nprint(mt.threads.blas_core_name())\n"
    (default,) = _run(code)
    if default == "None":
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    if platform.machine() != "x86_64":
        pytest.skip("the core names are OpenBLAS's x86-64 ones")
    # Nehalem's kernels (SSE4.2) run on every x86-64 CPU of the last 15 years.
    assert _run(code, OPENBLAS_CORETYPE="Nehalem") == ["Nehalem"]
