"""Train a small deformable network on MNIST, then draw where its deformable layers look.

    python examples/deformable_sampling.py --data-dir ../shared/data [--epochs 2] [--out runs/deformable]

The network (two modulated deformable convolutions, DCNv2's layer, nn.ModulatedDeformConv2d):

    (N, 1, 28, 28) -> Conv2d(1, 16, 3, padding 1) -> BN -> ReLU                     (N, 16, 28, 28)
                   -> ModulatedDeformConv2d(16, 32, 3, stride 2, padding 1) -> BN -> ReLU  (N, 32, 14, 14)  deform1
                   -> ModulatedDeformConv2d(32, 64, 3, stride 2, padding 1) -> BN -> ReLU  (N, 64, 7, 7)    deform2
                   -> global average pool -> Linear(64, 10)

trained with cross-entropy and SGD with momentum. Each deformable layer predicts, from its
own input, an offset (dh, dw) and a mask in (0, 1) for each of its 9 taps at every output
position; both start at "no offset, mask 1/2" and move as the network learns.

The figure (Dai et al. 2017, figure 5; Zhu et al. 2019, figure 1) follows one unit of
deform2 back to the image: the unit of the 7x7 map that responds most to the digit reads
9 points of deform1's 14x14 map (deform2's taps, moved by its offsets), and each of those
reads 9 points of the image (deform1's taps at the nearest unit, moved by its offsets):
81 sampling points. They are drawn for a few test images, over the digit, in red (level 1,
size proportional to the product of the two masks) and blue (level 2), with the regular
3x3-of-3x3 grid in grey for comparison. Coordinates: deform1's unit (i, j) tap (kh, kw)
reads image point (2i - 1 + kh + dh, 2j - 1 + kw + dw); deform2's unit (a, b) reads
deform1's map at (2a - 1 + kh + dh, 2b - 1 + kw + dw), and a point q of deform1's map
sits at image point 2q (the centre tap of its unit).

Outputs in --out: ``sampling_points.json`` (every drawn point, always) and
``sampling_points.png`` (with matplotlib, the ``plot`` extra: ``pip install -e ".[plot]"``),
each written to a temporary name and then renamed.
"""
import argparse
import os
import sys
import tempfile

import numpy as np

import minitorch_cv as mt
from minitorch_cv import data, nn, optim
from minitorch_cv.data import transforms as T
from minitorch_cv.utils import evaluate, train_one_epoch
from minitorch_cv.utils.metrics import write_json_atomic

TAPS = [(kh, kw) for kh in range(3) for kw in range(3)]


class DeformableNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.deform1 = nn.ModulatedDeformConv2d(16, 32, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.deform2 = nn.ModulatedDeformConv2d(32, 64, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)

    def features(self, x):
        """(deform1's input, deform2's input, deform2's output after BN and ReLU)."""
        x1 = self.stem(x)
        x2 = self.relu(self.bn1(self.deform1(x1)))
        return x1, x2, self.relu(self.bn2(self.deform2(x2)))

    def forward(self, x):
        return self.fc(self.pool(self.features(x)[2]).flatten(1))


def offsets_and_masks(layer, x):
    """The (N, 9, OH, OW) dh, dw and masks that ``layer`` predicts from its input x."""
    out = layer.conv_offset(x).numpy()
    return out[:, 0:18:2], out[:, 1:18:2], 1 / (1 + np.exp(-out[:, 18:]))


def sampling_points(model, images):
    """For each image: the chosen deform2 unit and its 9 + 81 sampling points (image
    coordinates), with the regular grid's points, as plain lists (see the docstring)."""
    model.eval()
    with mt.no_grad():
        x1, x2, y = model.features(images)
        dh1, dw1, m1 = offsets_and_masks(model.deform1, x1)
        dh2, dw2, m2 = offsets_and_masks(model.deform2, x2)
    activity = y.numpy().mean(axis=1)  # (N, 7, 7)
    size1 = x2.shape[-1]  # deform1's output: 14 x 14
    results = []
    for n in range(images.shape[0]):
        a, b = np.unravel_index(np.argmax(activity[n]), activity[n].shape)
        level2, level1, regular = [], [], []
        for t2, (kh2, kw2) in enumerate(TAPS):
            qh = 2 * a - 1 + kh2 + dh2[n, t2, a, b]  # on deform1's 14x14 map
            qw = 2 * b - 1 + kw2 + dw2[n, t2, a, b]
            level2.append([2 * qh, 2 * qw, m2[n, t2, a, b]])
            i, j = (int(np.clip(np.rint(v), 0, size1 - 1)) for v in (qh, qw))  # nearest unit
            for t1, (kh1, kw1) in enumerate(TAPS):
                level1.append([2 * i - 1 + kh1 + dh1[n, t1, i, j], 2 * j - 1 + kw1 + dw1[n, t1, i, j],
                               m2[n, t2, a, b] * m1[n, t1, i, j]])
                regular.append([2 * (2 * a - 1 + kh2) - 1 + kh1, 2 * (2 * b - 1 + kw2) - 1 + kw1])
        results.append(dict(unit=[int(a), int(b)], level2=level2, level1=level1, regular=regular))
    return [_floats(r) for r in results]


def _floats(value):
    """NumPy scalars to Python numbers, recursively (for JSON)."""
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_floats(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


def draw(images, points, path):
    """The figure as a PNG at ``path``; False (nothing written) without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return False
    figure = Figure(figsize=(3 * len(points), 3.3))
    FigureCanvasAgg(figure)
    for axes, image, record in zip(figure.subplots(1, len(points), squeeze=False)[0], images, points):
        axes.imshow(image, cmap="gray", extent=(-0.5, 27.5, 27.5, -0.5))  # pixel (h, w) at (w, h)
        regular = np.array(record["regular"])
        level1, level2 = np.array(record["level1"]), np.array(record["level2"])
        axes.scatter(regular[:, 1], regular[:, 0], s=4, c="lightgrey", label="regular grid")
        axes.scatter(level1[:, 1], level1[:, 0], s=40 * level1[:, 2], c="red", label="deform1 (81)")
        axes.scatter(level2[:, 1], level2[:, 0], s=25, c="dodgerblue", marker="s", label="deform2 (9)")
        a, b = record["unit"]
        axes.plot(4 * b, 4 * a, "g+", markersize=12, label="unit")
        axes.set(xlim=(-4, 31), ylim=(31, -4), xticks=[], yticks=[], title=f"deform2 unit ({a}, {b})")
    figure.axes[0].legend(loc="lower left", fontsize=6)
    figure.tight_layout()
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".sampling.", suffix=".png", dir=directory)
    try:
        with os.fdopen(handle, "wb") as file:
            figure.savefig(file, format="png", dpi=100)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MINITORCH_CV_DATA", "../shared/data"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--train-limit", type=int, default=20000, help="the first N training images")
    parser.add_argument("--test-limit", type=int, default=2000, help="the first N test images")
    parser.add_argument("--images", type=int, default=4, help="test images in the figure")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/deformable")
    args = parser.parse_args(argv)

    mt.manual_seed(args.seed)
    normalize = T.Normalize(data.MNIST_MEAN, data.MNIST_STD)
    train_set = data.MNIST(args.data_dir, train=True)
    test_set = data.MNIST(args.data_dir, train=False)
    train_set = data.Subset(train_set, list(range(min(args.train_limit, len(train_set)))))
    test_set = data.Subset(test_set, list(range(min(args.test_limit, len(test_set)))))
    train_loader = data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                   generator=args.seed, transform=normalize)
    test_loader = data.DataLoader(test_set, batch_size=500, transform=normalize)

    model = DeformableNet()
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    accuracy = None
    for epoch in range(args.epochs):
        train_loader.set_epoch(epoch)
        train = train_one_epoch(model, train_loader, optimizer, loss_fn, "cpu")
        accuracy = evaluate(model, test_loader, loss_fn, "cpu").accuracy
        print(f"epoch {epoch + 1}/{args.epochs}: test accuracy {accuracy * 100:.2f}% "
              f"({len(test_set)} images), {len(train_set)} training images in {train.seconds:.0f} s",
              flush=True)

    images, _ = next(iter(test_loader))
    images = images[: args.images]
    points = sampling_points(model, images)
    os.makedirs(args.out, exist_ok=True)
    write_json_atomic(os.path.join(args.out, "sampling_points.json"), points)
    raw = images.numpy()[:, 0] * data.MNIST_STD[0] + data.MNIST_MEAN[0]
    png = os.path.join(args.out, "sampling_points.png")
    if draw(raw, points, png):
        print(f"wrote {png} and sampling_points.json")
    else:
        print("wrote sampling_points.json; the figure needs matplotlib (pip install -e \".[plot]\")")
    return accuracy


if __name__ == "__main__":
    main(sys.argv[1:])
