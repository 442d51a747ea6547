"""Samplers and the DataLoader's PyTorch arguments (sampler, batch_sampler, collate_fn,
batch_size=None), through the import path minitorch_cv.utils.data."""
import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import data
from minitorch_cv.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
)


def _indexed(n):
    return TensorDataset(np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64) * 10)


def test_the_two_import_paths_are_the_same_objects():
    import minitorch_cv.utils.data as utils_data

    assert mt.utils.data.DataLoader is data.DataLoader is DataLoader
    assert utils_data.Subset is data.Subset and utils_data.random_split is data.random_split
    assert utils_data.get_worker_info() is None  # the main process


def test_sequential_and_random_samplers():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    sampler = RandomSampler(range(10), generator=3)
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(10)) and first != second
    assert all(isinstance(i, int) for i in first) and len(sampler) == 10
    sampler.set_epoch(0)
    assert list(sampler) == first  # set_epoch reproduces an epoch
    assert list(RandomSampler(range(10), generator=3)) == first  # the seed fixes it
    mt.manual_seed(4)
    fixed = list(RandomSampler(range(10)))
    mt.manual_seed(4)
    assert list(RandomSampler(range(10))) == fixed  # None: manual_seed fixes it


def test_random_sampler_num_samples_and_replacement():
    longer = list(RandomSampler(range(4), num_samples=10, generator=0))
    assert len(longer) == 10 and sorted(longer[:4]) == sorted(longer[4:8]) == [0, 1, 2, 3]
    shorter = list(RandomSampler(range(10), num_samples=3, generator=0))
    assert len(set(shorter)) == 3
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=300, generator=0))
    assert len(drawn) == 300 and set(drawn) == {0, 1, 2}
    stream = np.random.default_rng(1)
    assert len(list(RandomSampler(range(5), generator=stream))) == 5  # a NumPy generator
    with pytest.raises(ValueError, match="num_samples: expected a positive integer"):
        RandomSampler(range(3), num_samples=0)


def test_subset_random_sampler():
    drawn = list(SubsetRandomSampler([7, 3, 9], generator=0))
    assert sorted(drawn) == [3, 7, 9] and len(SubsetRandomSampler([1, 2])) == 2


def test_weighted_random_sampler_follows_the_weights():
    weights = [0.0, 1.0, 3.0]
    drawn = np.array(list(WeightedRandomSampler(weights, 20000, generator=0)))
    frequencies = np.bincount(drawn, minlength=3) / len(drawn)
    # 20000 draws: the standard error of a frequency is below 0.0035
    np.testing.assert_allclose(frequencies, [0.0, 0.25, 0.75], atol=0.02)
    once = list(WeightedRandomSampler([1, 1, 5, 0], 3, replacement=False, generator=0))
    assert sorted(once) == [0, 1, 2]  # each index of positive weight once
    with pytest.raises(ValueError, match="at most the 3 indices of positive weight"):
        WeightedRandomSampler([1, 1, 5, 0], 4, replacement=False)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1, -1], 2)
    with pytest.raises(ValueError, match="at least one positive weight"):
        WeightedRandomSampler([0, 0], 2)


def test_batch_sampler():
    assert list(BatchSampler(SequentialSampler(range(7)), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]  # any iterable
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), 0, False)


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (9, 3, False),
                                                    (2, 4, False)])
def test_distributed_sampler_shards(n, replicas, drop_last):
    shards = [DistributedSampler(range(n), replicas, rank, seed=5, drop_last=drop_last)
              for rank in range(replicas)]
    for shard in shards:
        shard.set_epoch(2)
    drawn = [list(shard) for shard in shards]
    sizes = {len(d) for d in drawn}
    assert sizes == {len(shards[0])}  # every replica the same number of samples
    together = sorted(i for d in drawn for i in d)
    if drop_last:
        assert len(set(together)) == len(together) == n - n % replicas  # disjoint, trimmed
    else:
        assert set(together) == set(range(n))  # all covered, padded with repeats
        assert len(together) == -(-n // replicas) * replicas
    assert list(shards[0]) == drawn[0]  # the order changes only with set_epoch
    shards[0].set_epoch(3)
    if n > 2:
        assert list(shards[0]) != drawn[0]


def test_distributed_sampler_defaults_and_errors():
    sampler = DistributedSampler(range(5), shuffle=False)
    assert list(sampler) == [0, 1, 2, 3, 4]  # one replica without a process group
    with pytest.raises(ValueError, match=r"rank: expected an integer in \[0, 1\]"):
        DistributedSampler(range(5), num_replicas=2, rank=2)


def test_a_plain_iterable_and_a_subclass_are_samplers():
    class Reversed(Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n - 1, -1, -1))

        def __len__(self):
            return self.n

    batches = [b[0].numpy().tolist() for b in DataLoader(_indexed(5), 2, sampler=Reversed(5))]
    assert batches == [[4, 3], [2, 1], [0]]
    batches = [b[0].numpy().tolist() for b in DataLoader(_indexed(5), 2, sampler=[4, 0, 2])]
    assert batches == [[4, 0], [2]]


# ----------------------------------------------------- the loader's PyTorch arguments
def test_batch_sampler_argument_and_len():
    loader = DataLoader(_indexed(6), batch_sampler=[[5, 1], [0], [2, 3, 4]])
    assert len(loader) == 3 and loader.batch_size is None
    assert [b[1].numpy().tolist() for b in loader] == [[50, 10], [0], [20, 30, 40]]


def test_collate_fn_gets_the_samples_and_decides_the_batch():
    def pairs(samples):
        return [(int(x), int(y)) for x, y in samples]

    loader = DataLoader(_indexed(5), batch_size=2, collate_fn=pairs)
    assert list(loader) == [[(0, 0), (1, 10)], [(2, 20), (3, 30)], [(4, 40)]]
    images, labels = next(iter(DataLoader(_indexed(5), batch_size=2, collate_fn=default_collate)))
    assert isinstance(images, mt.Tensor) and labels.numpy().tolist() == [0, 10]


def test_batch_size_none_gives_single_samples():
    samples = list(DataLoader(_indexed(3), batch_size=None))
    assert len(samples) == 3 and samples[2][1].item() == 20 and samples[2][1].shape == ()


def test_shuffle_matches_the_sampler_the_loader_builds():
    loader = DataLoader(_indexed(20), batch_size=6, shuffle=True, generator=9)
    served = np.concatenate([b[0].numpy() for b in loader])
    sampler = RandomSampler(range(20), generator=9)
    np.testing.assert_array_equal(served, list(sampler))


def test_concat_dataset():
    joined = ConcatDataset([_indexed(2), _indexed(3)])
    assert len(joined) == 5 and joined[2][0].item() == 0 and joined[-1][1].item() == 20
    with pytest.raises(IndexError, match="index"):
        joined[5]


def test_pytorch_keywords_are_accepted():
    loader = DataLoader(_indexed(4), batch_size=2, pin_memory=True, timeout=0, drop_last=True)
    assert len(list(loader)) == 2 and loader.pin_memory


@pytest.mark.parametrize("kwargs, message", [
    (dict(sampler=[0, 1], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "mutually exclusive with drop_last"),
    (dict(num_workers=-1), "num_workers: expected a non-negative integer"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(timeout=-1), "timeout: expected a non-negative number"),
    (dict(collate_fn=3), "collate_fn: expected a callable"),
])  # fmt: skip
def test_bad_pytorch_arguments_are_named(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        DataLoader(_indexed(3), **kwargs)
