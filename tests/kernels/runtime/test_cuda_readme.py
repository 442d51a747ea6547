"""The "run a CUDA kernel on your laptop" steps of kernels/cuda/runtime/README.md, run verbatim."""
import re
import subprocess
import sys

from minitorch_cv.kernels.cuda.runtime.launcher import KERNEL_DIR


def laptop_code_blocks():
    text = (KERNEL_DIR / "runtime" / "README.md").read_text()
    section = text[text.index("## Run a CUDA kernel on your laptop") :]
    return re.findall(r"```(cuda|python)\n(.*?)```", section, flags=re.DOTALL)


def test_the_laptop_walkthrough_runs_as_written(tmp_path):
    blocks = laptop_code_blocks()
    assert [language for language, _ in blocks] == ["cuda", "python", "python"]
    for name, (_, code) in zip(["square.cu", "square.py", "run.py"], blocks):
        (tmp_path / name).write_text(code)
    result = subprocess.run([sys.executable, "run.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "square.cu agrees with NumPy on 1500 elements"
