"""examples/train_mnist.py runs end to end on a slice of the real MNIST, learns, and
resumes from its checkpoint."""
import importlib.util

import pytest

import minitorch_cv as mt
from tests.conftest import REPO_ROOT
from tests.nn.pending_ops import requires_ops

pytestmark = [
    requires_ops("conv2d", "max_pool2d", "cross_entropy"),
    pytest.mark.skipif(not hasattr(mt.data, "MNIST"), reason="minitorch_cv.data.MNIST not merged yet"),
]


def _load_example():
    spec = importlib.util.spec_from_file_location("train_mnist", REPO_ROOT / "examples" / "train_mnist.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_mnist_learns_and_resumes(data_dir, tmp_path, capsys):
    example = _load_example()
    checkpoint = tmp_path / "mnist.mtc"
    common = ["--data-dir", str(data_dir), "--train-limit", "1500", "--test-limit", "500",
              "--batch-size", "50", "--no-progress", "--checkpoint", str(checkpoint)]
    accuracy = example.main(common + ["--epochs", "1"])
    assert accuracy > 0.6  # 1,500 images, one epoch; chance is 0.1
    assert checkpoint.exists()
    accuracy = example.main(common + ["--epochs", "2"])
    output = capsys.readouterr().out
    assert "resumed from" in output and "epoch 2/2" in output
    assert accuracy > 0.6
