"""k-nearest neighbours on raw pixels: CIFAR-10 (the subset) and MNIST, L1 and L2.

    python examples/knn_cifar.py --data-dir ../shared/data

The course's first image classifier: no learning, only distances. For each data set and
each metric (p = 1, Manhattan: sum |a - b|; p = 2, Euclidean), 5-fold cross-validation
on the training set chooses k among 1, 3, 5, 8, 10, 12, 15, 20, 50, 100 (the best mean
accuracy; the smaller k on a tie); the classifier with that k is then fit on the whole
training set and scored on the test set. Prints one table per data set, writes the plot
of accuracy against k (``knn_<dataset>.png``, with matplotlib, the ``plot`` extra) and
``knn_results.json`` to --out.

Each fold costs ONE neighbour search with the largest k: the sorted neighbours of every
validation image are then voted on for each smaller k, which gives exactly the
predictions of a classifier built with that k (neighbours ordered by distance, then
training index; votes tied between labels go to the smallest).

Data: the CIFAR-10 subset (4,660 training, 846 test images) whole. MNIST's 60,000
training images make the cross-validation a subsample: --mnist-cv-images (10,000 by
default, drawn with --seed) are split into the 5 folds; the test accuracy then uses
all 60,000 training and all 10,000 test images (--mnist-test-images to use fewer).

Precision: L2 runs in float64, where distances between integer pixels are exact (the
GEMM expansion of kernels/reference/distance.py); L1 runs in float32, exact as well
because its sums of integers stay below 2^24, and twice as fast.
"""
import argparse
import os
import sys
import time
import uuid

import numpy as np

from minitorch_cv import data
from minitorch_cv.neighbors import KNeighborsClassifier, majority_vote
from minitorch_cv.utils import write_json_atomic

KS = (1, 3, 5, 8, 10, 12, 15, 20, 50, 100)
METRICS = {1: "L1 (Manhattan)", 2: "L2 (Euclidean)"}
DTYPES = {1: np.float32, 2: np.float64}


def cross_validate(images, labels, ks, p, folds, seed, device):
    """accuracy[fold, j] of k = ks[j] on fold ``fold`` of a seeded split into ``folds``."""
    order = np.random.default_rng(seed).permutation(len(images))
    parts = np.array_split(order, folds)
    accuracy = np.zeros((folds, len(ks)))
    for fold, validation in enumerate(parts):
        train = np.concatenate([part for i, part in enumerate(parts) if i != fold])
        knn = KNeighborsClassifier(n_neighbors=max(ks), p=p, device=device)
        knn.fit(images[train].astype(DTYPES[p]), labels[train])
        neighbors = knn.kneighbors(images[validation].astype(DTYPES[p]), return_distance=False)
        neighbor_classes = np.searchsorted(knn.classes_, labels[train])[neighbors]
        for j, k in enumerate(ks):
            votes = knn.classes_[majority_vote(neighbor_classes[:, :k], len(knn.classes_))]
            accuracy[fold, j] = np.mean(votes == labels[validation])
    return accuracy


def best_k(ks, mean_accuracy):
    """The k of the best mean accuracy; the first (smallest) of equal ones."""
    return ks[int(np.argmax(mean_accuracy))]


def evaluate(name, train, test, cv_images, ks, folds, seed, device):
    """Cross-validation table, chosen k and test accuracy per metric, printed; a record."""
    (train_images, train_labels), (test_images, test_labels) = train, test
    cv_x, cv_y = cv_images
    print(f"\n{name}: raw pixels ({np.prod(train_images.shape[1:])} values per image); "
          f"{folds}-fold cross-validation on {len(cv_x)} training images "
          f"({len(cv_x) // folds} per fold); test: {len(test_images)} images against "
          f"{len(train_images)} training images", flush=True)
    record = {"cv_images": len(cv_x), "train_images": len(train_images),
              "test_images": len(test_images), "ks": list(ks), "metrics": {}}
    for p, metric in METRICS.items():
        start = time.perf_counter()
        accuracy = cross_validate(cv_x, cv_y, ks, p, folds, seed, device)
        k = best_k(ks, accuracy.mean(axis=0))
        knn = KNeighborsClassifier(n_neighbors=k, p=p, device=device)
        knn.fit(train_images.astype(DTYPES[p]), train_labels)
        test_accuracy = knn.score(test_images.astype(DTYPES[p]), test_labels)
        record["metrics"][f"p={p}"] = {
            "name": metric, "cv_mean": accuracy.mean(axis=0).tolist(),
            "cv_std": accuracy.std(axis=0).tolist(), "best_k": k, "test_accuracy": test_accuracy,
            "seconds": time.perf_counter() - start,
        }
        print(f"  {metric}: chose k = {k}, test accuracy {100 * test_accuracy:.1f}%", flush=True)
    print_table(record)
    return record


def print_table(record):
    header = f"  {'k':>5}" + "".join(f"  {m['name']:>20}" for m in record["metrics"].values())
    print(header)
    for j, k in enumerate(record["ks"]):
        cells = ""
        for m in record["metrics"].values():
            mark = "*" if k == m["best_k"] else " "
            cells += f"  {100 * m['cv_mean'][j]:>12.1f}% ± {100 * m['cv_std'][j]:4.1f}{mark}"
        print(f"  {k:>5}{cells}")
    print("  (cross-validation accuracy, mean ± std over the folds; * = the chosen k)")


def plot(record, title, path):
    """Accuracy against k, one line per metric with the folds' std as error bars; False
    without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return False
    figure = Figure(figsize=(6, 4))
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    for m in record["metrics"].values():
        label = f"{m['name']}, test {100 * m['test_accuracy']:.1f}% at k={m['best_k']}"
        axes.errorbar(record["ks"], 100 * np.array(m["cv_mean"]), yerr=100 * np.array(m["cv_std"]),
                      marker="o", capsize=3, label=label)
    axes.set(xscale="log", xlabel="k (neighbours)", ylabel="cross-validation accuracy (%)", title=title)
    axes.set_xticks(record["ks"], [str(k) for k in record["ks"]])
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    temporary = f"{path}.{uuid.uuid4().hex}.tmp.png"  # a reader never sees half a file
    try:
        figure.savefig(temporary, dpi=100)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return True


def first(arrays, limit):
    images, labels = arrays
    return (images, labels) if limit is None else (images[:limit], labels[:limit])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MINITORCH_CV_DATA", "../shared/data"),
                        help="folder holding cifar-10-subset-python.tar.gz and mnist/")
    parser.add_argument("--datasets", nargs="+", default=["cifar", "mnist"], choices=["cifar", "mnist"])
    parser.add_argument("--ks", type=int, nargs="+", default=list(KS), help="the k values to compare")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds and of MNIST's CV subsample")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="runs/knn", help="folder for the plots and knn_results.json")
    parser.add_argument("--train-images", type=int, default=None,
                        help="use only the first N training images of each data set (quick runs)")
    parser.add_argument("--test-images", type=int, default=None,
                        help="use only the first N CIFAR test images (quick runs)")
    parser.add_argument("--mnist-cv-images", type=int, default=10000,
                        help="random training images of MNIST for the cross-validation (default 10000)")
    parser.add_argument("--mnist-test-images", type=int, default=None,
                        help="use only the first N MNIST test images (default: all 10000)")
    args = parser.parse_args(argv)
    ks = tuple(sorted(set(args.ks)))
    os.makedirs(args.out, exist_ok=True)

    results = {}
    if "cifar" in args.datasets:
        archive = os.path.join(args.data_dir, "cifar-10-subset-python.tar.gz")
        source = archive if os.path.exists(archive) else args.data_dir
        train = first(data.CIFAR10(source, train=True).arrays, args.train_images)
        test = first(data.CIFAR10(source, train=False).arrays, args.test_images)
        results["cifar"] = evaluate("CIFAR-10 subset", train, test, train, ks, args.folds, args.seed,
                                    args.device)
    if "mnist" in args.datasets:
        folder = os.path.join(args.data_dir, "mnist")
        source = folder if os.path.isdir(folder) else args.data_dir
        train = first(data.MNIST(source, train=True).arrays, args.train_images)
        test = first(data.MNIST(source, train=False).arrays, args.mnist_test_images)
        chosen = np.random.default_rng(args.seed).permutation(len(train[0]))[: args.mnist_cv_images]
        chosen.sort()  # the subsample in the data set's order
        cv_images = (train[0][chosen], train[1][chosen])
        results["mnist"] = evaluate("MNIST", train, test, cv_images, ks, args.folds, args.seed, args.device)

    for name, record in results.items():
        title = {"cifar": "k-NN on the CIFAR-10 subset (raw pixels)",
                 "mnist": "k-NN on MNIST (raw pixels)"}[name]
        path = os.path.join(args.out, f"knn_{name}.png")
        print(f"wrote {path}" if plot(record, title, path) else "(no plot: pip install matplotlib)")
    write_json_atomic(os.path.join(args.out, "knn_results.json"), results)
    print(f"wrote {os.path.join(args.out, 'knn_results.json')}")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
