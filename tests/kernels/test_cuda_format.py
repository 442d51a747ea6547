"""Every .cu and .cuh file is formatted by the repository's .clang-format.

Runs where clang-format is installed (``pip install clang-format``, in the ``test``
extra); fix a failure with ``clang-format -i <file>``.
"""
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.kernels.runtime.cuda_testing import KERNEL_DIR, TEST_SOURCE_DIR

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
SOURCES = sorted([*KERNEL_DIR.glob("*.cu"), *KERNEL_DIR.glob("*.cuh"), *TEST_SOURCE_DIR.glob("*.cu")])


def clang_format():
    """The clang-format of this environment (the PyPI wheel puts it beside python)."""
    beside_python = pathlib.Path(sys.executable).with_name("clang-format")
    return str(beside_python) if beside_python.is_file() else shutil.which("clang-format")


@pytest.mark.skipif(clang_format() is None, reason="clang-format is not installed (pip install clang-format)")
@pytest.mark.skipif(not (REPOSITORY / ".clang-format").is_file(), reason="not a checkout (no .clang-format)")
def test_every_cuda_file_is_clang_formatted():
    assert SOURCES
    result = subprocess.run(
        [clang_format(), "--dry-run", "--Werror", "--style=file", *map(str, SOURCES)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, "run clang-format -i on these files:\n" + result.stderr[-4000:]
