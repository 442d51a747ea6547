"""The whole training loop, written out: a small CNN on MNIST in under 100 lines.

    python examples/train_minimal.py --data-dir ../shared/data

Every step that the other examples hide in minitorch_cv.utils.run is here in plain
sight: batches from a DataLoader, the forward pass, the loss, zero_grad, backward, the
optimizer step, and an evaluation without a graph. It reaches about 98% test accuracy
after one epoch (60,000 images).
"""
import argparse

import minitorch_cv as mt
from minitorch_cv import data, nn, optim
from minitorch_cv.data import transforms as T


def build_model():
    # (N, 1, 28, 28) -> (N, 8, 14, 14) -> (N, 16, 7, 7) -> (N, 10) logits
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10),
    )


def evaluate(model, loader):
    """Fraction of correct predictions; no graph is recorded (no_grad), eval mode."""
    model.eval()
    correct = total = 0
    with mt.no_grad():
        for images, labels in loader:
            predictions = model(images).argmax(dim=1)
            correct += (predictions == labels).sum().item()
            total += labels.shape[0]
    model.train()
    return correct / total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-subset", type=int, default=None, help="first N images only")
    parser.add_argument("--test-subset", type=int, default=None, help="first N images only")
    args = parser.parse_args(argv)

    mt.manual_seed(0)
    normalize = T.Normalize(data.MNIST_MEAN, data.MNIST_STD)
    train_set = data.MNIST(args.data_dir, train=True)
    test_set = data.MNIST(args.data_dir, train=False)
    if args.train_subset:
        train_set = data.Subset(train_set, range(args.train_subset))
    if args.test_subset:
        test_set = data.Subset(test_set, range(args.test_subset))
    train_loader = data.DataLoader(train_set, batch_size=64, shuffle=True, generator=0,
                                   transform=normalize)
    test_loader = data.DataLoader(test_set, batch_size=500, transform=normalize)

    model = build_model()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    for epoch in range(args.epochs):
        for step, (images, labels) in enumerate(train_loader):
            logits = model(images)            # forward: (N, 10)
            loss = loss_fn(logits, labels)    # mean cross entropy of the batch
            optimizer.zero_grad()             # forget the previous step's gradients
            loss.backward()                   # d loss / d parameter, into each .grad
            optimizer.step()                  # parameter -= lr * (momentum-smoothed) grad
            if step % 100 == 0:
                print(f"epoch {epoch + 1} step {step:4d}/{len(train_loader)}  "
                      f"loss {loss.item():.4f}", flush=True)
        accuracy = evaluate(model, test_loader)
        print(f"epoch {epoch + 1}: test accuracy {accuracy * 100:.2f}%", flush=True)
    return accuracy


if __name__ == "__main__":
    main()
