"""examples/visualize_cnn.py end to end on a few real CIFAR-10 images, through a
subprocess: it trains one epoch, saves and then reloads its checkpoint, and writes every
figure as a PNG that Pillow reads back. The pictures of a real run are described in the
example's docstring."""
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "examples" / "visualize_cnn.py"
FIGURES = ["filters_layer1.png", "feature_maps_layer1.png", "feature_maps_layer2.png", "feature_maps_layer3.png",
           "top9_layer1.png", "top9_layer2.png", "top9_layer3.png", "occlusion_0.png", "occlusion_1.png"]


def test_visualize_example_trains_reloads_and_writes_its_figures(data_dir, tmp_path):
    Image = pytest.importorskip("PIL.Image")
    if not (data_dir / "cifar-10-subset-python.tar.gz").is_file():
        pytest.skip("the CIFAR-10 subset is not in the data directory")
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    environment = dict(os.environ, PYTHONPATH=path, OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    checkpoint = tmp_path / "small_zfnet.mtc"
    arguments = ["--data-dir", str(data_dir), "--out", str(tmp_path / "figures"), "--epochs", "1",
                 "--train-images", "64", "--test-images", "24", "--features", "2", "--occlusion-images", "2",
                 "--patch", "8", "--stride", "4", "--checkpoint", str(checkpoint)]

    def run():
        result = subprocess.run([sys.executable, str(SCRIPT), *arguments], cwd=tmp_path, env=environment,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    first = run()
    assert "epoch 1/1" in first and f"saved {checkpoint}" in first
    sizes = {}
    for name in FIGURES:
        with Image.open(tmp_path / "figures" / name) as image:
            assert image.format == "PNG"
            sizes[name] = image.size
    # Top-9 figures: receptive fields of 5, 15 and 27 pixels, 2 features, 9 images each.
    assert "receptive field 5 x 5" in first and "receptive field 27 x 27" in first
    second = run()
    assert f"loaded {checkpoint}" in second and "epoch" not in second
    for name in FIGURES:
        with Image.open(tmp_path / "figures" / name) as image:
            assert image.size == sizes[name]
