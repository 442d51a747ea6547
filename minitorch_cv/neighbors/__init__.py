"""minitorch_cv.neighbors: the nearest-neighbour baseline of image classification.

    from minitorch_cv.neighbors import KNeighborsClassifier
    knn = KNeighborsClassifier(n_neighbors=5, p=1).fit(train_images, train_labels)
    accuracy = knn.score(test_images, test_labels)

Files: classifier.py (KNeighborsClassifier with scikit-learn's vocabulary, the vote),
search.py (distances in blocks under a memory limit, the k nearest with index-ordered
ties). The distances themselves are the "distance" kernel family
(kernels/reference/distance.py, kernels/cpu/distance.py, kernels/cuda/distance.cu).
"""
from .classifier import KNeighborsClassifier, NotFittedError, majority_vote
from .search import k_nearest

__all__ = ["KNeighborsClassifier", "NotFittedError", "k_nearest", "majority_vote"]
