"""benchmarks/check_torchvision.py: its comparison helpers (without PyTorch), its clear
message where PyTorch is missing, and a smoke run where a PyTorch venv is at hand
(TORCH_REFERENCE_VENV, as ../shared/tools/torch-reference-env.sh names it)."""
import importlib.util
import os
import pathlib
import subprocess
import sys
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "check_torchvision.py"


def load_script():
    spec = importlib.util.spec_from_file_location("check_torchvision", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # imports no torch: that happens in main()
    return module


def run(python, *arguments):
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    return subprocess.run([str(python), str(SCRIPT), *arguments], cwd=REPO_ROOT,
                          env=dict(os.environ, PYTHONPATH=path), capture_output=True,
                          text=True, timeout=600)


def test_relative_difference_is_worst_over_keys_and_relative_to_the_largest_output():
    script = load_script()
    theirs = {"out": np.array([[10.0, -20.0]]), "aux": np.array([[1.0, 2.0]])}
    ours = {"out": np.array([[10.0, -20.002]]), "aux": np.array([[1.0, 2.0004]])}
    difference, note = script.relative_difference(ours, theirs)
    assert difference == pytest.approx(2e-4) and note == ""  # aux: 4e-4 / 2
    difference, note = script.relative_difference({"out": ours["out"]}, theirs)
    assert difference == float("inf") and "output keys" in note
    difference, note = script.relative_difference({**ours, "out": np.zeros((2, 2))}, theirs)
    assert difference == float("inf") and "shape" in note


def test_named_outputs_of_tensors_tuples_and_dicts():
    script = load_script()
    pair = namedtuple("Outputs", ["logits", "aux_logits"])
    assert list(script.named_outputs(pair(1, None), float)) == ["logits"]
    assert script.named_outputs(OrderedDict(out=1, aux=2), float) == {"out": 1.0, "aux": 2.0}
    assert script.named_outputs((1, 2), float) == {"0": 1.0, "1": 2.0}
    assert script.named_outputs(3, float) == {"logits": 3.0}


def test_without_pytorch_it_says_how_to_get_it():
    if importlib.util.find_spec("torch") is not None:
        pytest.skip("PyTorch is installed in this environment: the message is never printed")
    result = run(sys.executable, "--list")
    assert result.returncode == 2
    assert "torch-reference-env.sh" in result.stderr


def test_smoke_run_in_the_reference_venv():
    venv = os.environ.get("TORCH_REFERENCE_VENV")
    python = pathlib.Path(venv or "-") / "bin" / "python"
    if not python.exists():
        pytest.skip("set TORCH_REFERENCE_VENV to a venv made by ../shared/tools/torch-reference-env.sh")
    result = run(python, "--names", "resnet18")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "resnet18" in result.stdout and "all ok" in result.stdout
