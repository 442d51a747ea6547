"""allocator.keep_freed_memory: a freed array's memory serves the next one without page
faults (glibc only), and the user's own malloc settings win."""
import os
import platform
import subprocess
import sys

import pytest

from minitorch_cv import allocator

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's malloc only"
)

# A 64 MiB array (above glibc's largest automatic mmap threshold, 32 MiB): freed, then one
# of the same size written; prints the page faults that the second one took.
FAULTS_OF_A_REALLOCATION = (
    "import resource, numpy as np\n"
    "import minitorch_cv\n"
    "a = np.ones(2**24, np.float32); del a\n"
    "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
    "b = np.ones(2**24, np.float32)\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
)


def _faults(**env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    environment.pop("GLIBC_TUNABLES", None)
    environment.update(env)
    result = subprocess.run([sys.executable, "-c", FAULTS_OF_A_REALLOCATION], env=environment,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return int(result.stdout)


def test_a_freed_array_is_reused_without_page_faults():
    # 64 MiB are 16384 pages of 4 KiB (or 32 huge pages): each is a fault when mapped fresh.
    assert _faults() < 8
    # The user's setting wins: a 1 MiB mmap threshold maps the array fresh again.
    assert _faults(MALLOC_MMAP_THRESHOLD_=str(2**20)) >= 32


@pytest.mark.parametrize("name", ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"])
def test_the_users_malloc_settings_are_left_alone(monkeypatch, name):
    monkeypatch.setenv(name, "1000000")
    assert allocator.keep_freed_memory() is False
    monkeypatch.delenv(name)
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1000000")
    assert allocator.keep_freed_memory() is False
