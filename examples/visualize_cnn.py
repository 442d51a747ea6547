"""Look inside a small ZFNet-style network trained on the CIFAR-10 subset.

    python examples/visualize_cnn.py --data-dir ../shared/data --out runs/visualize

Trains the network below on the CIFAR-10 subset (or loads it: with --checkpoint FILE,
an existing FILE is loaded and training skipped, else FILE is written after training),
prints its test accuracy, and writes PNG files (Pillow) to --out, in the spirit of Zeiler
& Fergus, "Visualizing and Understanding Convolutional Networks" (ZFNet, 2014):

  filters_layer1.png            the first layer's 32 filters, each on its own scale
                                (mid-gray = 0), as in ZFNet's figure 6
  feature_maps_layer{1,2,3}.png the activations of the first test image after each
                                layer's ReLU, one tile per channel
  top9_layer{1,2,3}.png         ZFNet's figure 2: for --features features of the layer
                                (those most active on the test set), one row each: the
                                deconvnet projections of the 9 test images that excite
                                the feature most (left, mid-gray = 0) beside the
                                receptive-field patches of those images (right)
  occlusion_{n}.png             ZFNet's figure 7 for --occlusion-images test images: (a)
                                the image; (b) the total activation of the strongest
                                layer-3 feature map as a gray square slides over the image;
                                (c) the deconvnet projection of that feature; (d) the
                                probability of the true class (black 0, white 1); (e) the
                                most probable class (one colour per class, listed in the
                                console), for each occluder position

The network, ZFNet's layer pattern scaled down to 32 x 32 images:

    layer 1  conv 5x5, 32, padding 2  -> ReLU -> max pool 3x3/2, padding 1 -> LRN   16 x 16
    layer 2  conv 5x5, 64, padding 2  -> ReLU -> max pool 3x3/2, padding 1 -> LRN    8 x 8
    layer 3  conv 3x3, 128, padding 1 -> ReLU -> max pool 3x3/2, padding 1           4 x 4
    classifier: flatten -> dropout 0.5 -> linear 2048 -> 10

Receptive fields after each layer's ReLU: 5, 15 and 27 pixels. The projections of
minitorch_cv.visualize undo max pooling with the switches, ReLU with a ReLU and each
convolution with a transposed convolution of the same filters (see its projection.py).
"""
import argparse
import os
import sys

import numpy as np

import minitorch_cv as mt
from minitorch_cv import data, nn, optim
from minitorch_cv import visualize as V
from minitorch_cv.data import transforms as T
from minitorch_cv.data.cifar import CLASSES
from minitorch_cv.data.dataset import fetch_batch
from minitorch_cv.utils import evaluate, train_one_epoch

LAYERS = {1: "features.1", 2: "features.5", 3: "features.9"}  # each layer's ReLU
# One colour per class for the label map of the occlusion figures.
PALETTE = np.array([[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
                    [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [128, 128, 128]]) / 255


class SmallZFNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1), nn.LocalResponseNorm(5),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1), nn.LocalResponseNorm(5),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Linear(128 * 4 * 4, num_classes))

    def forward(self, x):
        # The flatten happens here, outside the modules: the projections allow that.
        return self.classifier(self.features(x).flatten(1))


def limited(dataset, limit):
    return dataset if limit is None or limit >= len(dataset) else data.Subset(dataset, list(range(limit)))


def train(model, train_set, test_set, normalize, args):
    augment = T.Compose([T.RandomHorizontalFlip(), normalize])
    loader = data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=args.seed,
                             transform=augment)
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=args.epochs * len(loader))
    test_loader = data.DataLoader(test_set, batch_size=256, transform=normalize)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        metrics = train_one_epoch(model, loader, optimizer, loss_fn, args.device, scheduler=scheduler)
        accuracy = evaluate(model, test_loader, loss_fn, args.device).accuracy
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {metrics.loss:.3f}, "
              f"test accuracy {100 * accuracy:.1f}% ({len(test_set)} images)", flush=True)


def strongest_channels(model, inputs, layer, count):
    """The ``count`` channels of ``layer`` with the largest activations over ``inputs``."""
    with mt.no_grad():
        captured = []
        handle = model.get_submodule(layer).register_forward_hook(lambda m, a, out: captured.append(out))
        model.eval()
        model(inputs)
        handle.remove()
    peaks = captured[0].numpy().max(axis=(0, 2, 3))
    return [int(c) for c in np.argsort(-peaks, kind="stable")[:count]]


def top9_figures(model, test_set, normalize, inputs, args):
    for number, layer in LAYERS.items():
        channels = strongest_channels(model, inputs, layer, args.features)
        rows = []
        for channel in channels:
            top = V.top_activations(model, test_set, layer, channel, k=min(9, len(test_set)), transform=normalize)
            rows.append(top.figure(nrow=3, padding=1, gap=4))
            rows.append(np.ones((4,) + rows[-1].shape[1:]))  # a white band between features
        size = top.patches.shape[1]
        path = os.path.join(args.out, f"top9_layer{number}.png")
        V.save_png(path, np.concatenate(rows[:-1]), scale=max(1, 120 // size))
        print(f"wrote {path}: features {channels} of {layer}, receptive field {size} x {size} pixels")


def upsampled(occlusion_values, H, W, patch, stride):
    """Each pixel takes the value of the occluder position whose patch centre is nearest."""
    OH, OW = occlusion_values.shape
    rows = np.clip(np.round((np.arange(H) + 0.5 - patch / 2) / stride), 0, OH - 1).astype(int)
    columns = np.clip(np.round((np.arange(W) + 0.5 - patch / 2) / stride), 0, OW - 1).astype(int)
    return occlusion_values[rows][:, columns]


def occlusion_figures(model, test_set, normalize, args):
    images, labels = fetch_batch(test_set, np.arange(min(args.occlusion_images, len(test_set))))
    inputs = normalize(images)
    H, W = images.shape[-2:]
    for n in range(len(images)):
        result = V.occlusion_map(model, inputs[n], int(labels[n]), patch=args.patch, stride=args.stride,
                                 fill=0.0, layer=LAYERS[3])
        projection = V.deconvnet(model, inputs[n], LAYERS[3], result.channel)
        tiles = [
            V.to_image(images[n]),
            _gray(V.to_image(upsampled(result.activation, H, W, args.patch, args.stride), "minmax")),
            V.to_image(projection, "symmetric"),
            _gray(upsampled(result.probability, H, W, args.patch, args.stride)),
            PALETTE[upsampled(result.label, H, W, args.patch, args.stride)],
        ]
        path = os.path.join(args.out, f"occlusion_{n}.png")
        V.save_png(path, V.make_grid(tiles, nrow=5, padding=2), scale=4)
        print(f"wrote {path}: a {CLASSES[labels[n]]}, p = {result.unoccluded_probability:.2f} unoccluded, "
              f"{result.probability.min():.2f} at the worst occluder position; layer-3 feature {result.channel}")
    print("label colours: " + ", ".join(f"{name} = RGB{tuple(int(v) for v in np.round(255 * PALETTE[i]))}"
                                        for i, name in enumerate(CLASSES)))


def _gray(image):
    return np.repeat(np.asarray(image)[..., None], 3, axis=2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MINITORCH_CV_DATA", "../shared/data"),
                        help="folder holding cifar-10-subset-python.tar.gz (or the archive itself)")
    parser.add_argument("--out", default="runs/visualize", help="folder for the PNG files")
    parser.add_argument("--checkpoint", default=None, help="load the trained network from here if it exists, "
                        "else save it here after training")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05, help="the peak of the 1cycle schedule")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--train-images", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--test-images", type=int, default=None, help="use only the first N test images")
    parser.add_argument("--features", type=int, default=4, help="features per layer in the top-9 figures")
    parser.add_argument("--occlusion-images", type=int, default=3)
    parser.add_argument("--patch", type=int, default=8, help="occluder side in pixels")
    parser.add_argument("--stride", type=int, default=2, help="occluder step in pixels")
    args = parser.parse_args(argv)

    archive = os.path.join(args.data_dir, "cifar-10-subset-python.tar.gz")
    source = archive if os.path.exists(archive) else args.data_dir
    train_set = limited(data.CIFAR10(source, train=True), args.train_images)
    test_set = limited(data.CIFAR10(source, train=False), args.test_images)
    normalize = T.Normalize(data.CIFAR10_MEAN, data.CIFAR10_STD)
    os.makedirs(args.out, exist_ok=True)

    mt.manual_seed(args.seed)
    model = SmallZFNet().to(args.device)
    if args.checkpoint and os.path.exists(args.checkpoint):
        model.load_state_dict(mt.load(args.checkpoint, map_location=args.device))
        print(f"loaded {args.checkpoint}")
    else:
        train(model, train_set, test_set, normalize, args)
        if args.checkpoint:
            mt.save(model.state_dict(), args.checkpoint)
            print(f"saved {args.checkpoint}")
    model.eval()

    path = os.path.join(args.out, "filters_layer1.png")
    V.save_png(path, V.filter_grid(model.features[0].weight, nrow=8, padding=1), scale=8)
    print(f"wrote {path}")
    first_images = fetch_batch(test_set, np.arange(min(200, len(test_set))))[0]
    inputs = mt.tensor(normalize(first_images), device=args.device)
    for number, layer in LAYERS.items():
        path = os.path.join(args.out, f"feature_maps_layer{number}.png")
        V.save_png(path, V.feature_maps(model, inputs[0], layer), scale=4 if number > 1 else 2)
        print(f"wrote {path}")
    top9_figures(model, test_set, normalize, inputs, args)
    occlusion_figures(model, test_set, normalize, args)
    return model


if __name__ == "__main__":
    main(sys.argv[1:])
