"""Per-pixel and per-class loss weights: the U-Net paper's weight map (Ronneberger et
al. 2015, equation 2), and median frequency balancing (``median_frequency_weights``).

Touching cells in the ISBI 2012 slices are separated by membranes a few pixels wide. A
network that blurs such a gap merges two cells, yet those pixels are a tiny share of the
loss. The paper weights each pixel x of the cross entropy by

    w(x) = w_c(x) + w0 exp(-(d1(x) + d2(x))^2 / (2 sigma^2))

where w_c balances the class frequencies, d1 is the distance to the border of the
nearest cell and d2 to the border of the second nearest; w0 = 10 and sigma = 5 pixels
in the paper. The second term is large only between two cells that nearly touch. It is
computed for background (membrane) pixels; inside a cell d1 = 0 and the term would
only mark the cell's own rim. The paper pre-computes the map for every ground-truth
label map; ``ISBI2012(weight_maps=True)`` does the same and lets the joint transforms
deform it with the labels.

Cells are the 4-connected components of the foreground (``connected_components``); the
distance from a background pixel to a cell is the Euclidean distance between pixel
centres to the cell's nearest pixel (``two_nearest_cell_distances``). Distances beyond
``max_distance`` (6 sigma by default) are not computed: where d2 > 6 sigma the term is
below w0 e^-18 = 1.5e-7 w0, and stopping there bounds the search.
"""
import numpy as np

def connected_components(mask):
    """(labels int32 (H, W), count): the 4-connected components of the bool ``mask``
    numbered 1..count in order of their first pixel (row-major), 0 elsewhere.

    Each row is cut into runs of True pixels; runs of consecutive rows that share a
    column are joined with a union-find; every run is then painted with its root.
    """
    mask = np.asarray(mask, dtype=bool)
    H, W = mask.shape
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    run_rows, run_starts = np.nonzero(edges == 1)  # row-major: sorted by row, then start
    _, run_ends = np.nonzero(edges == -1)          # exclusive ends, in the same order
    parent = list(range(len(run_rows)))

    def root(run):
        while parent[run] != run:
            parent[run] = parent[parent[run]]
            run = parent[run]
        return run

    first_of_row = np.searchsorted(run_rows, np.arange(H + 1))
    for row in range(1, H):
        above = range(first_of_row[row - 1], first_of_row[row])
        here = range(first_of_row[row], first_of_row[row + 1])
        i, j = iter(above), iter(here)
        a, b = next(i, None), next(j, None)
        while a is not None and b is not None:  # two runs overlap: join them
            if run_starts[a] < run_ends[b] and run_starts[b] < run_ends[a]:
                first, second = sorted((root(a), root(b)))
                parent[second] = first  # the root stays the component's first run
            # move past whichever run ends first
            if run_ends[a] <= run_ends[b]:
                a = next(i, None)
            else:
                b = next(j, None)
    roots = np.array([root(run) for run in range(len(parent))], dtype=np.int64)
    _, numbers = np.unique(roots, return_inverse=True)  # roots numbered by first run
    labels = np.zeros((H, W), dtype=np.int32)
    for run in range(len(parent)):
        labels[run_rows[run], run_starts[run]:run_ends[run]] = numbers[run] + 1
    return labels, int(numbers.max() + 1) if len(parent) else 0


def _offsets_by_distance(max_distance):
    """(dy, dx, distance) of every offset with 0 < distance <= max_distance, nearest
    first."""
    reach = int(np.floor(max_distance))
    dy, dx = np.mgrid[-reach:reach + 1, -reach:reach + 1]
    distance = np.sqrt(dy * dy + dx * dx).reshape(-1)
    order = np.argsort(distance, kind="stable")
    keep = order[(distance[order] > 0) & (distance[order] <= max_distance)]
    return dy.reshape(-1)[keep], dx.reshape(-1)[keep], distance[keep]


def two_nearest_cell_distances(labels, max_distance):
    """(d1, d2) float64 (H, W): at every background pixel (label 0) of the cell map
    ``labels``, the distances to the nearest and the second nearest cell; inf where
    there is no such cell within ``max_distance``, and at cell pixels.

    A sweep over offsets in order of distance: at each offset, every background pixel
    still looking looks at the pixel that far away. The first cell it sees is its
    nearest (d1 = that distance); the first other cell, its second nearest (d2), and it
    stops looking. Most membrane pixels have both cells within a few pixels, so the
    pixels still looking are soon few.
    """
    H, W = labels.shape
    d1 = np.full((H, W), np.inf)
    d2 = np.full((H, W), np.inf)
    ys, xs = np.nonzero(labels == 0)
    nearest = np.zeros(ys.size, dtype=labels.dtype)  # the nearest cell found, 0: none yet
    first_distance = np.full(ys.size, np.inf)
    looking = np.arange(ys.size)
    for dy, dx, distance in zip(*_offsets_by_distance(max_distance)):
        if looking.size == 0:
            break
        y, x = ys[looking] + dy, xs[looking] + dx
        inside = (y >= 0) & (y < H) & (x >= 0) & (x < W)
        seen = np.zeros(looking.size, dtype=labels.dtype)
        seen[inside] = labels[y[inside], x[inside]]
        is_first = (seen > 0) & (nearest[looking] == 0)
        is_second = (seen > 0) & (nearest[looking] > 0) & (seen != nearest[looking])
        nearest[looking[is_first]] = seen[is_first]
        first_distance[looking[is_first]] = distance
        d2[ys[looking[is_second]], xs[looking[is_second]]] = distance
        looking = looking[~is_second]
    d1[ys, xs] = first_distance
    return d1, d2


def balanced_class_weights(mask, num_classes):
    """w_c[k] = N / (K' count_k) for the K' classes present in ``mask`` (N pixels), 0 for
    absent ones: every present class gets the same total weight (scikit-learn's
    "balanced")."""
    counts = np.bincount(mask.reshape(-1), minlength=num_classes)[:num_classes].astype(np.float64)
    present = counts > 0
    weights = np.zeros(num_classes)
    weights[present] = mask.size / (present.sum() * counts[present])
    return weights


def median_frequency_weights(masks, num_classes):
    """Class weights of median frequency balancing (Eigen & Fergus 2015; SegNet's CamVid
    weights): w_c = median(f) / f_c, with f_c the pixels of class c divided by the
    labelled pixels of the images where c occurs; 0 for a class that never occurs.
    masks: label maps (N, H, W); ids >= num_classes (the ignore id) are not counted."""
    pixels = np.zeros(num_classes)
    present_in = np.zeros(num_classes)
    for mask in masks:
        counts = np.bincount(np.asarray(mask).reshape(-1), minlength=num_classes)[:num_classes]
        pixels += counts
        present_in += (counts > 0) * counts.sum()
    frequency = pixels / np.maximum(present_in, 1)
    return np.median(frequency[frequency > 0]) / np.where(frequency > 0, frequency, np.inf)


def unet_weight_map(mask, w0=10.0, sigma=5.0, foreground=1, class_weights=None,
                    max_distance=None):
    """float32 (H, W): w(x) of the module docstring for the label map ``mask`` (ints).

    foreground: the id of the cell class (ISBI2012: 1); every other id is background.
    class_weights: w_c per class id (default: ``balanced_class_weights`` of this map
    over ids 0..max). max_distance: see the module docstring (default 6 sigma).
    """
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.dtype.kind not in "iu":
        raise ValueError(f"mask: expected an integer label map (H, W), got {mask.dtype} {mask.shape}")
    if not sigma > 0 or not w0 >= 0:
        raise ValueError(f"sigma, w0: expected sigma > 0 and w0 >= 0, got {sigma!r}, {w0!r}")
    if mask.size and mask.min() < 0:
        raise ValueError("mask: expected non-negative class ids")
    if class_weights is None:
        class_weights = balanced_class_weights(mask, int(mask.max()) + 1 if mask.size else 1)
    class_weights = np.asarray(class_weights, dtype=np.float64)
    if mask.size and mask.max() >= class_weights.size:
        raise ValueError(f"class_weights: expected a weight for every id up to {mask.max()}, "
                         f"got {class_weights.size}")
    max_distance = 6 * sigma if max_distance is None else float(max_distance)
    labels, _ = connected_components(mask == foreground)
    d1, d2 = two_nearest_cell_distances(labels, max_distance)
    with np.errstate(over="ignore"):  # inf distances give exp(-inf) = 0
        border = w0 * np.exp(-((d1 + d2) ** 2) / (2 * sigma**2))
    return (class_weights[mask] + border).astype(np.float32)
