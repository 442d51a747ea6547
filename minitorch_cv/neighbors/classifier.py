"""``KNeighborsClassifier``: the nearest-neighbour baseline, with scikit-learn's vocabulary.

    from minitorch_cv.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=5, p=1).fit(train_images, train_labels)
    knn.predict(test_images)                  # (Q,) labels
    knn.score(test_images, test_labels)       # accuracy
    distances, indices = knn.kneighbors(test_images)   # (Q, 5) each

Training stores the data; predicting finds, for every query, the ``n_neighbors``
training vectors nearest in the Lp distance (p = 1: Manhattan, sum |a - b|; p = 2:
Euclidean, sqrt(sum (a - b)^2)) and returns the label most of them carry.

The rules, so that results never depend on an algorithm's whims:
- neighbours are ordered by distance, equal distances by training index (lower first);
- a vote between labels with equal counts goes to the smallest label (in the order of
  ``classes_``, i.e. sorted).

As in scikit-learn: ``fit(X, y)`` returns self; ``classes_`` holds the sorted distinct
labels and predictions are drawn from it (labels may be ints or strings);
``kneighbors(X=None, n_neighbors=None, return_distance=True)``, where X=None queries the
training points themselves, each without itself; ``n_features_in_``,
``n_samples_fit_``; calling ``predict`` before ``fit`` raises ``NotFittedError``. Inputs
may be NumPy arrays, minitorch_cv Tensors or nested lists; an array of images
(N, C, H, W) is flattened to (N, C*H*W) (scikit-learn wants the flat form). Floating
inputs keep their dtype (float32 or float64), anything else (uint8 pixels) becomes
float64: scikit-learn's rule, and the one that makes pixel distances exact (see
kernels/reference/distance.py). Results are NumPy arrays.

Additions: ``device`` ("cpu" or "gpu"; by default where the training data lives) and
``working_memory`` (MiB for one block of distances, scikit-learn's name for that limit).
Only p = 1 and p = 2 exist (no other Minkowski p, no ``weights="distance"``).
"""
import numbers

import numpy as np

from .. import devices as _device
from ..tensor import Tensor
from .search import k_nearest


class NotFittedError(ValueError, AttributeError):
    """A classifier was used before ``fit`` (scikit-learn's exception, with its bases)."""


def majority_vote(neighbor_labels, n_classes):
    """The most frequent label of each row of ``neighbor_labels`` (Q, k), whose entries
    are class indices in [0, n_classes); equal counts go to the smallest index.

    counts[q, c] = number of neighbours of q with label c; argmax takes the FIRST
    maximum, which is the smallest tied label. Works on NumPy and CuPy arrays.
    """
    xp = _device.namespace(neighbor_labels)
    counts = xp.zeros((neighbor_labels.shape[0], n_classes), dtype=xp.int64)
    for c in range(n_classes):
        counts[:, c] = (neighbor_labels == c).sum(axis=1)
    return counts.argmax(axis=1)


class KNeighborsClassifier:
    def __init__(self, n_neighbors=1, p=2, *, device=None, working_memory=256):
        self.n_neighbors = n_neighbors
        self.p = p
        self.device = device
        self.working_memory = working_memory

    def __repr__(self):
        return f"KNeighborsClassifier(n_neighbors={self.n_neighbors}, p={self.p})"

    # ------------------------------------------------------------------ fit
    def fit(self, X, y):
        """Store the training vectors X (n, D) (or images (n, ...)) and labels y (n,)."""
        _check_neighbors("n_neighbors", self.n_neighbors)
        if self.p not in (1, 2) or isinstance(self.p, bool):
            raise ValueError(f"p: expected 1 (L1, Manhattan) or 2 (L2, Euclidean), got {self.p!r}")
        if not isinstance(self.working_memory, numbers.Real) or not self.working_memory > 0:
            raise ValueError(
                f"working_memory: expected a positive number of MiB, got {self.working_memory!r}"
            )
        X = _as_samples("X", X)
        y = np.asarray(_to_numpy(y))
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y: expected shape ({X.shape[0]},) (one label per row of X), got {y.shape}")
        if X.shape[0] == 0:
            raise ValueError("X: expected at least one training sample, got 0")
        device = self.device if self.device is not None else _device.device_of_array(X)
        self._device = _device.normalize(device)
        self.classes_, labels = np.unique(y, return_inverse=True)
        self._X = _device.to_device(X, self._device)
        self._labels = _device.to_device(labels.astype(np.int64), self._device)
        self.n_features_in_ = X.shape[1]
        self.n_samples_fit_ = X.shape[0]
        return self

    # ------------------------------------------------------------- queries
    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """(distances, indices), each (Q, n_neighbors), sorted by distance then index;
        indices are rows of the training data. X=None: the training points, each one's
        own row left out (scikit-learn's rule), even where a duplicate lies at distance 0."""
        self._check_fitted()
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        _check_neighbors("n_neighbors", k)
        available = self.n_samples_fit_ - (1 if X is None else 0)
        if k > available:
            raise ValueError(
                f"n_neighbors: expected at most {available} (the training samples"
                f"{', less the query itself' if X is None else ''}), got {k}"
            )
        if X is None:
            distances, indices = self._without_self(k)
        else:
            queries = self._queries(X)
            distances, indices = k_nearest(queries, self._X, k, self.p, self.working_memory)
        indices = _device.to_device(indices, "cpu")
        if not return_distance:
            return indices
        return _device.to_device(distances, "cpu"), indices

    def predict(self, X):
        """The majority label of each query's n_neighbors nearest training vectors."""
        self._check_fitted()
        _check_neighbors("n_neighbors", self.n_neighbors)
        if self.n_neighbors > self.n_samples_fit_:
            raise ValueError(
                f"n_neighbors: expected at most {self.n_samples_fit_} (the training samples), "
                f"got {self.n_neighbors}"
            )
        _, indices = k_nearest(self._queries(X), self._X, self.n_neighbors, self.p, self.working_memory)
        votes = majority_vote(self._labels[indices], len(self.classes_))
        return self.classes_[_device.to_device(votes, "cpu")]

    def score(self, X, y):
        """Mean accuracy of predict(X) against y."""
        y = np.asarray(_to_numpy(y))
        predictions = self.predict(X)
        if y.shape != predictions.shape:
            raise ValueError(f"y: expected shape {predictions.shape} (one label per row of X), got {y.shape}")
        return float(np.mean(predictions == y))

    # ------------------------------------------------------------- helpers
    def _check_fitted(self):
        if not hasattr(self, "_X"):
            raise NotFittedError(
                "This KNeighborsClassifier instance is not fitted yet: call fit(X, y) first"
            )

    def _queries(self, X):
        X = _as_samples("X", X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X: expected {self.n_features_in_} features per sample (as in fit), got {X.shape[1]}"
            )
        return _device.to_device(X.astype(self._X.dtype, copy=False), self._device)

    def _without_self(self, k):
        """The k nearest of each training point among the others: search k + 1, then drop
        the point's own index, or the (k+1)-th neighbour where a tie pushed it out."""
        xp = _device.namespace(self._X)
        distances, indices = k_nearest(self._X, self._X, k + 1, self.p, self.working_memory)
        rows = xp.arange(self.n_samples_fit_)[:, None]
        is_self = indices == rows
        drop = xp.where(is_self.any(axis=1), is_self.argmax(axis=1), k)
        keep = xp.arange(k + 1)[None, :] != drop[:, None]
        return distances[keep].reshape(-1, k), indices[keep].reshape(-1, k)


def _check_neighbors(name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")


def _to_numpy(value):
    return value.detach().numpy() if isinstance(value, Tensor) else value


def _as_samples(name, X):
    """X as a finite float array (n, D) on its own device: Tensors unwrapped, images
    flattened, non-float values converted to float64."""
    if isinstance(X, Tensor):
        X = X.detach().array
    if _device.device_of_array(X) == _device.CPU:
        X = np.asarray(X)
    xp = _device.namespace(X)
    if X.ndim < 2:
        raise ValueError(
            f"{name}: expected samples of shape (n, features) or (n, C, H, W), got shape {X.shape}"
        )
    X = X.reshape(X.shape[0], -1)
    if X.dtype not in (np.float32, np.float64):
        if X.dtype.kind not in "biuf":
            raise TypeError(f"{name}: expected numbers, got dtype {X.dtype}")
        X = X.astype(np.float64)
    if not bool(xp.isfinite(X).all()):
        raise ValueError(f"{name}: expected finite values, found NaN or infinity")
    return X
