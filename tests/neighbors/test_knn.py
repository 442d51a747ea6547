"""KNeighborsClassifier against a brute-force NumPy computation on real images.

The brute force is the definition, written independently of the library: exact integer
distances (int64 arithmetic on the raw pixels), a full stable sort of each row (ties by
training index) and a vote by np.bincount (argmax: the smallest label among equal
counts). The data are real CIFAR-10 and MNIST images, with ties made on purpose: copies
of training images appended with other labels (equal distances) and queries that are
copies of training images (distance 0); the tests assert that such ties really occur.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv import backend, data
from minitorch_cv.neighbors import KNeighborsClassifier, NotFittedError, k_nearest, majority_vote
from minitorch_cv.neighbors.search import smallest_k
from tests.helpers import DEVICES

N_TRAIN, N_QUERY, N_DUPLICATES, N_COPIES = 160, 40, 30, 10


class RealImages:
    """Training images + N_DUPLICATES copies of some of them under other labels, and
    test images + N_COPIES copies of training images as queries; the exact distances
    of the brute force, computed once per metric."""

    def __init__(self, images, labels, test_images, seed):
        rng = np.random.default_rng(seed)
        train, train_labels = images[:N_TRAIN], labels[:N_TRAIN]
        copied = rng.choice(N_TRAIN, N_DUPLICATES, replace=False)
        other_labels = (train_labels[copied] + rng.integers(1, 10, N_DUPLICATES)) % 10
        self.train = np.concatenate([train, train[copied]])
        self.labels = np.concatenate([train_labels, other_labels])
        copies = self.train[rng.choice(N_TRAIN, N_COPIES, replace=False)]
        self.queries = np.concatenate([test_images[:N_QUERY], copies])
        self._exact = {}

    def exact(self, p, queries="test"):
        """(Q, T) int64 distances from the definition, one query row at a time; queries
        "test" (self.queries) or "train" (the training images themselves)."""
        if (p, queries) not in self._exact:
            train = self.train.reshape(len(self.train), -1).astype(np.int64)
            rows = []
            for query in (self.queries if queries == "test" else self.train).reshape(-1, train.shape[1]):
                differences = train - query.astype(np.int64)
                rows.append(np.abs(differences).sum(axis=1) if p == 1 else (differences**2).sum(axis=1))
            self._exact[p, queries] = np.array(rows)
        return self._exact[p, queries]

    def brute_force(self, k, p):
        """(distances, indices, predictions) for the test queries, from the definitions."""
        exact = self.exact(p)
        indices = np.argsort(exact, axis=1, kind="stable")[:, :k]  # ties: lower index first
        distances = np.take_along_axis(exact, indices, axis=1).astype(np.float64)
        if p == 2:
            distances = np.sqrt(distances)
        votes = np.array([np.bincount(self.labels[row], minlength=10).argmax() for row in indices])
        return distances, indices, votes


@pytest.fixture(scope="module", params=["cifar", "mnist"])
def real_images(request, data_dir):
    if request.param == "cifar":
        path = data_dir / "cifar-10-subset-python.tar.gz"
        if not path.is_file():
            pytest.skip(f"{path} not found")
        train, test = data.CIFAR10(path, train=True), data.CIFAR10(path, train=False)
    else:
        if not (data_dir / "mnist").is_dir():
            pytest.skip(f"{data_dir / 'mnist'} not found")
        train, test = data.MNIST(data_dir / "mnist", train=True), data.MNIST(data_dir / "mnist", train=False)
    images, labels = train.arrays
    return RealImages(images, labels, test.arrays[0], seed=len(request.param))


@pytest.mark.parametrize("implementation", ["cpu", "cuda", "reference"])
@pytest.mark.parametrize("p", [1, 2])
def test_predictions_match_brute_force_on_real_images(real_images, p, implementation):
    images = real_images
    with backend.use_cpu_kernels(implementation):
        knn = KNeighborsClassifier(n_neighbors=1, p=p).fit(images.train, images.labels)
        for k in (1, 3, 5):
            expected_distances, expected_indices, expected_votes = images.brute_force(k, p)
            knn.n_neighbors = k
            distances, indices = knn.kneighbors(images.queries)
            np.testing.assert_array_equal(indices, expected_indices)
            np.testing.assert_allclose(distances, expected_distances, rtol=1e-12)
            np.testing.assert_array_equal(knn.predict(images.queries), expected_votes)
    # The data really hold the ties the rules are about: equal distances among the 5
    # nearest (the appended copies), and votes with equal counts.
    nearest = np.sort(images.exact(p), axis=1)[:, :5]
    assert (np.diff(nearest, axis=1) == 0).any()
    counts = np.array([np.bincount(images.labels[row], minlength=10) for row in expected_indices])
    assert ((counts == counts.max(axis=1, keepdims=True)).sum(axis=1) > 1).any()


@pytest.mark.parametrize("device", DEVICES)
def test_both_devices_and_float32_tensors(real_images, device):
    """Tensors in, on the chosen device; float32 stays float32 (L1 on pixels is exact in it)."""
    images = real_images
    _, expected_indices, expected_votes = images.brute_force(3, 1)
    knn = KNeighborsClassifier(n_neighbors=3, p=1)
    knn.fit(mt.tensor(images.train.astype(np.float32), device=device), mt.tensor(images.labels))
    distances, indices = knn.kneighbors(mt.tensor(images.queries.astype(np.float32), device=device))
    assert distances.dtype == np.float32 and isinstance(indices, np.ndarray)
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_array_equal(knn.predict(images.queries), expected_votes)


def test_a_small_working_memory_splits_the_queries_into_blocks(real_images):
    images = real_images
    expected = KNeighborsClassifier(5, p=2).fit(images.train, images.labels).kneighbors(images.queries)
    # One query row of distances and index arrays is about len(train) * 27 bytes: 0.0001
    # MiB (105 bytes) makes every block a single row.
    knn = KNeighborsClassifier(5, p=2, working_memory=0.0001).fit(images.train, images.labels)
    for blocked, whole in zip(knn.kneighbors(images.queries), expected):
        np.testing.assert_array_equal(blocked, whole)


def test_kneighbors_without_queries_leaves_each_point_out(real_images):
    images = real_images
    distances, indices = KNeighborsClassifier(4, p=1).fit(images.train, images.labels).kneighbors()
    exact = images.exact(1, queries="train")
    for i in range(len(images.train)):
        others = [j for j in np.argsort(exact[i], kind="stable") if j != i][:4]
        np.testing.assert_array_equal(indices[i], others)
        np.testing.assert_array_equal(distances[i], exact[i, others])
    # The appended copies: each one's nearest neighbour is its original, at distance 0.
    assert (distances[N_TRAIN:, 0] == 0).all()


def test_the_first_k_of_more_neighbours_vote_as_predict_with_k(real_images):
    """What examples/knn_cifar.py relies on: one search with the largest k, every smaller
    k by voting on a prefix of the sorted neighbours."""
    images = real_images
    knn = KNeighborsClassifier(20, p=2).fit(images.train, images.labels)
    indices = knn.kneighbors(images.queries, return_distance=False)
    class_indices = np.searchsorted(knn.classes_, images.labels)
    for k in (1, 2, 7, 20):
        votes = knn.classes_[majority_vote(class_indices[indices[:, :k]], len(knn.classes_))]
        knn.n_neighbors = k
        np.testing.assert_array_equal(votes, knn.predict(images.queries))


# ------------------------------------------------------------------ the pieces
@given(data=st.data())
def test_smallest_k_is_a_stable_sort_prefix(data):
    """Rows with many equal values (drawn from a few levels): the result is exactly the
    first k entries of a stable sort of each row."""
    R, T = data.draw(st.integers(1, 6), label="R"), data.draw(st.integers(1, 30), label="T")
    k = data.draw(st.integers(1, T), label="k")
    levels = data.draw(st.integers(1, 4), label="levels")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    d = rng.integers(0, levels, (R, T)).astype(np.float64)
    values, columns = smallest_k(d, k)
    expected = np.argsort(d, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(columns, expected)
    np.testing.assert_array_equal(values, np.take_along_axis(d, expected, axis=1))


def test_k_nearest_returns_euclidean_not_squared_distances():
    train = np.array([[0.0, 0.0], [3.0, 4.0]])
    distances, indices = k_nearest(np.array([[0.0, 0.0]]), train, 2, 2, working_memory=1)
    np.testing.assert_array_equal(distances, [[0.0, 5.0]])
    np.testing.assert_array_equal(indices, [[0, 1]])
    distances, _ = k_nearest(np.array([[0.0, 0.0]]), train, 2, 1, working_memory=1)
    np.testing.assert_array_equal(distances, [[0.0, 7.0]])


def test_k_nearest_checks_its_arguments():
    train = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"k: expected an int in \[1, 3\]"):
        k_nearest(train, train, 4, 2, working_memory=1)
    with pytest.raises(ValueError, match="p: expected 1"):
        k_nearest(train, train, 1, 3, working_memory=1)


def test_vote_ties_go_to_the_smallest_label():
    labels = np.array([[2, 1, 1, 2, 0], [3, 0, 4, 3, 4], [1, 1, 1, 0, 0], [4, 3, 2, 1, 0]])
    np.testing.assert_array_equal(majority_vote(labels, 5), [1, 3, 1, 0])


def test_labels_may_be_strings_and_classes_are_sorted():
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    knn = KNeighborsClassifier(n_neighbors=2).fit(X, ["dog", "cat", "dog", "cat"])
    assert list(knn.classes_) == ["cat", "dog"]
    # Each query has one "cat" and one "dog" among its 2 neighbours: "cat" is smaller.
    assert list(knn.predict([[0.2], [10.2]])) == ["cat", "cat"]
    assert knn.score([[0.2], [10.2]], ["cat", "dog"]) == 0.5


def test_bad_arguments_raise_clear_errors():
    X, y = np.zeros((4, 3)), np.array([0, 1, 0, 1])
    with pytest.raises(NotFittedError, match="fit"):
        KNeighborsClassifier().predict(X)
    with pytest.raises(ValueError, match="p: expected 1"):
        KNeighborsClassifier(p=3).fit(X, y)
    with pytest.raises(ValueError, match="n_neighbors: expected a positive int, got 0"):
        KNeighborsClassifier(n_neighbors=0).fit(X, y)
    with pytest.raises(ValueError, match="n_neighbors: expected at most 4"):
        KNeighborsClassifier(n_neighbors=5).fit(X, y).predict(X)
    with pytest.raises(ValueError, match="n_neighbors: expected at most 3"):
        KNeighborsClassifier(n_neighbors=4).fit(X, y).kneighbors()
    with pytest.raises(ValueError, match="y: expected shape"):
        KNeighborsClassifier().fit(X, y[:3])
    with pytest.raises(ValueError, match="X: expected 3 features"):
        KNeighborsClassifier().fit(X, y).predict(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="X: expected finite values"):
        KNeighborsClassifier().fit(np.full((4, 3), np.nan), y)
    with pytest.raises(ValueError, match="working_memory"):
        KNeighborsClassifier(working_memory=0).fit(X, y)
    with pytest.raises(ValueError, match="X: expected samples of shape"):
        KNeighborsClassifier().fit(np.zeros(4), y)
