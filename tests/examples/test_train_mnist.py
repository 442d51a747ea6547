"""examples/train_mnist.py runs end to end on a slice of the real MNIST, learns, and
resumes from its checkpoint."""
import importlib.util

from tests.conftest import REPO_ROOT


def _load_example():
    spec = importlib.util.spec_from_file_location("train_mnist", REPO_ROOT / "examples" / "train_mnist.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_mnist_learns_and_resumes(data_dir, tmp_path, capsys):
    example = _load_example()
    checkpoint = tmp_path / "mnist.mtc"
    common = ["--data-dir", str(data_dir), "--train-limit", "640", "--test-limit", "200",
              "--batch-size", "32", "--no-progress", "--checkpoint", str(checkpoint)]
    accuracy = example.main(common + ["--epochs", "1"])
    assert accuracy > 0.6  # 640 images (20 steps), one epoch; chance is 0.1
    assert checkpoint.exists()
    accuracy = example.main(common + ["--epochs", "2"])
    output = capsys.readouterr().out
    assert "resumed from" in output and "epoch 2/2" in output
    assert accuracy > 0.6
