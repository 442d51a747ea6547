"""Brute-force nearest-neighbour search: distances in blocks, then the k smallest per row.

    distances, indices = k_nearest(queries, train, k, p, working_memory)

queries (Q, D) and train (T, D) are arrays of one float dtype on one device (NumPy or
CuPy). The distances come from the "distance" kernel family (L2 through one GEMM, L1 as
a tiled loop; see kernels/reference/distance.py), a block of query rows at a time: the
(rows, T) distance block and the selection's index arrays stay under ``working_memory``
MiB (scikit-learn's name for the same limit), with at least one row per block.

Order of the neighbours: by distance, and among equal distances by training index, the
lower first. This makes the result a function of the data alone (not of a sorting
algorithm), which is what lets tests compare it with a brute-force computation, ties
included.
"""
from .. import backend
from ..devices import device_of_array, namespace

# Bytes per (query row, training row) pair besides the distance itself: the int64
# partition indices and cumulative counts, and the boolean masks of the selection.
_SELECTION_BYTES = 8 + 8 + 3


def k_nearest(queries, train, k, p, working_memory):
    """(distances (Q, k), indices (Q, k) int64) of the k training rows nearest to each
    query, sorted by (distance, training index). p = 2: Euclidean distances (the square
    root of the kernel's squared distances); p = 1: Manhattan distances."""
    Q, T = queries.shape[0], train.shape[0]
    if p not in (1, 2):
        raise ValueError(f"p: expected 1 (L1) or 2 (L2), got {p!r}")
    if not 1 <= k <= T:
        raise ValueError(f"k: expected an int in [1, {T}] (the training rows), got {k!r}")
    if device_of_array(queries) != device_of_array(train):
        raise RuntimeError("queries and train must be on the same device")
    xp = namespace(queries)
    distance = backend.DISTANCE.on(device_of_array(queries))
    pairwise = distance.squared_l2_distances if p == 2 else distance.l1_distances
    per_row = T * (queries.itemsize + _SELECTION_BYTES)
    rows = max(1, int(working_memory * 2**20) // max(1, per_row))
    all_distances = xp.empty((Q, k), dtype=queries.dtype)
    all_indices = xp.empty((Q, k), dtype=xp.int64)
    for start in range(0, Q, rows):
        block = slice(start, min(start + rows, Q))
        d = pairwise(queries[block], train)
        all_distances[block], all_indices[block] = smallest_k(d, k)
        del d  # free this block's distances before the next block is computed
    if p == 2:
        all_distances = xp.sqrt(all_distances)
    return all_distances, all_indices


def smallest_k(d, k):
    """The k smallest entries of each row of d (R, T), 1 <= k <= T, as (values (R, k),
    column indices (R, k)), sorted by (value, column): ties go to the lower column.

    A full sort of each row costs T log T; this costs a few passes over the row:
      1. kth[r] = the k-th smallest value of row r (a partition, linear time);
      2. every entry below kth is kept (fewer than k of them), and of the entries EQUAL
         to kth the first ones by column, as many as are still needed: a running count
         along the row says which;
      3. the k kept columns come out of nonzero() in increasing order, so a stable sort
         of their k values puts equal values in column order.
    """
    xp = namespace(d)
    R = d.shape[0]
    kth = xp.partition(d, k - 1, axis=1)[:, k - 1 : k]
    below = d < kth
    at = d == kth
    needed = k - below.sum(axis=1, keepdims=True)
    keep = below | (at & (xp.cumsum(at, axis=1) <= needed))
    columns = xp.nonzero(keep)[1].reshape(R, k)
    values = xp.take_along_axis(d, columns, axis=1)
    order = xp.argsort(values, axis=1, kind="stable")
    return xp.take_along_axis(values, order, axis=1), xp.take_along_axis(columns, order, axis=1)
