"""Shared pytest configuration: hypothesis profiles and the data-set location.

Hypothesis profiles (choose with HYPOTHESIS_PROFILE=...):
  ci    (default) derandomized, a bounded number of examples, no deadline (the first
        call of a Numba kernel or an emulated CUDA kernel compiles it);
  deep  many more examples, random, for long local runs.
"""
import os
import pathlib

import pytest
from hypothesis import HealthCheck, settings

import minitorch_cv as mt

settings.register_profile(
    "ci",
    max_examples=30,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "deep",
    max_examples=1000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def find_data_dir():
    """MINITORCH_CV_DATA, else ../shared/data beside the checkout (None if absent)."""
    candidates = [os.environ.get("MINITORCH_CV_DATA"), REPO_ROOT.parent / "shared" / "data"]
    for candidate in candidates:
        if candidate and pathlib.Path(candidate).is_dir():
            return pathlib.Path(candidate)
    return None


@pytest.fixture(scope="session")
def data_dir():
    path = find_data_dir()
    if path is None:
        pytest.skip("no data directory: set MINITORCH_CV_DATA or put the data in ../shared/data")
    return path


@pytest.fixture
def threads():
    """Sets the number of threads (``threads(n)``) and restores it after the test."""
    numba_before, blas_before = mt.get_num_threads(), mt.threads.blas_num_threads()
    yield mt.set_num_threads
    mt.set_num_threads(numba_before)
    if blas_before is not None:
        mt.threads.set_blas_num_threads(blas_before)
