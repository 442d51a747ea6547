"""Train a small 2-layer CNN on MNIST with SGD and report test accuracy and time.

    python examples/train_mnist.py --data-dir ../shared/data --epochs 1

The network (LeNet-like, two convolution layers and a linear classifier):

    (N, 1, 28, 28) -> Conv2d(1, 16, 5) -> ReLU -> MaxPool2d(2)    (N, 16, 12, 12)
                   -> Conv2d(16, 32, 5) -> ReLU -> MaxPool2d(2)   (N, 32, 4, 4)
                   -> Flatten -> Linear(512, 10)                  (N, 10) logits

trained with cross-entropy and SGD with momentum; one epoch reaches about 98% test
accuracy. ``--checkpoint`` saves model + optimizer + loader position + epoch after every
epoch and resumes from it when it exists. The training and evaluation loops, the
progress bar (on stderr) and the checkpoint contents come from ``minitorch_cv.utils``,
shared with examples/train_resnet_cifar.py.
"""
import argparse
import os
import sys

import minitorch_cv as mt
from minitorch_cv import data, nn, optim
from minitorch_cv.data import transforms as T
from minitorch_cv.utils import (
    ProgressBar,
    evaluate,
    restore_training_state,
    train_one_epoch,
    training_state,
)


def build_model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 10),
    )


def limited(dataset, limit):
    if limit is None or limit >= len(dataset):
        return dataset
    return data.Subset(dataset, list(range(limit)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MINITORCH_CV_DATA", "../shared/data"))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", default=None, help="save/resume file (optional)")
    parser.add_argument("--train-limit", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--test-limit", type=int, default=None, help="use only the first N test images")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    mt.manual_seed(args.seed)
    normalize = T.Normalize(data.MNIST_MEAN, data.MNIST_STD)
    train_set = limited(data.MNIST(args.data_dir, train=True), args.train_limit)
    test_set = limited(data.MNIST(args.data_dir, train=False), args.test_limit)
    train_loader = data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                   generator=args.seed, transform=normalize)
    test_loader = data.DataLoader(test_set, batch_size=1000, transform=normalize)

    model = build_model().to(args.device)
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    loss_fn = nn.CrossEntropyLoss()
    start_epoch = 0
    if args.checkpoint and os.path.exists(args.checkpoint):
        checkpoint = mt.load(args.checkpoint, map_location=args.device)
        restore_training_state(checkpoint, model, optimizer, loader=train_loader)
        start_epoch = checkpoint["epoch"] + 1
        print(f"resumed from {args.checkpoint} at epoch {start_epoch}")
    print(model)

    accuracy = None
    for epoch in range(start_epoch, args.epochs):
        train_loader.set_epoch(epoch)
        bar = None
        if not args.no_progress:
            bar = ProgressBar(len(train_loader), desc=f"epoch {epoch + 1}/{args.epochs}",
                              unit="img")
        train = train_one_epoch(model, train_loader, optimizer, loss_fn, args.device,
                                progress=bar)
        if bar is not None:
            bar.close()
        accuracy = evaluate(model, test_loader, loss_fn, args.device).accuracy
        print(f"epoch {epoch + 1}/{args.epochs}: test accuracy {accuracy * 100:.2f}% "
              f"({len(test_set)} images), training time {train.seconds:.1f} s "
              f"({len(train_set)} images, device {args.device})", flush=True)
        if args.checkpoint:
            mt.save(training_state(model, optimizer, loader=train_loader, epoch=epoch),
                    args.checkpoint)
    return accuracy


if __name__ == "__main__":
    main(sys.argv[1:])
