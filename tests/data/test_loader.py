"""DataLoader: batching, shuffling, reproducibility, resuming, prefetch, errors."""
import gc
import threading

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import data
from minitorch_cv.data import transforms as T
from tests.helpers import DEVICES

AUGMENT = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(),
                     T.Normalize(data.CIFAR10_MEAN, data.CIFAR10_STD)])  # fmt: skip


def _indexed(n):
    """A data set whose sample i is (i, 10 * i): the batches show which samples they hold."""
    return data.TensorDataset(np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64) * 10)


def _epoch(loader):
    return [[field.numpy().copy() for field in batch] for batch in loader]


def _assert_same_batches(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        for field_a, field_b in zip(a, b):
            np.testing.assert_array_equal(field_a, field_b)


class PlainDataset(data.Dataset):
    """Only __getitem__/__len__: forces the per-sample path."""

    def __init__(self, inner):
        self.inner = inner

    def __len__(self):
        return len(self.inner)

    def __getitem__(self, index):
        return self.inner[index]


class FailingDataset(data.Dataset):
    def __len__(self):
        return 20

    def __getitem__(self, index):
        if index == 13:
            raise ValueError("sample 13 is broken")
        return np.zeros((1, 2, 2), np.uint8), index


# ---------------------------------------------------------------- shapes and lengths
@pytest.mark.parametrize(
    "n, batch_size, drop_last, sizes",
    [(10, 3, False, [3, 3, 3, 1]), (10, 3, True, [3, 3, 3]), (9, 3, False, [3, 3, 3]),
     (9, 3, True, [3, 3, 3]), (2, 5, False, [2]), (2, 5, True, []), (7, 1, False, [1] * 7)],
)  # fmt: skip
def test_batch_sizes_and_len(n, batch_size, drop_last, sizes):
    loader = data.DataLoader(_indexed(n), batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == len(sizes)
    assert [batch[0].shape[0] for batch in loader] == sizes


def test_unshuffled_order_and_pairing():
    batches = _epoch(data.DataLoader(_indexed(10), batch_size=4))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), np.arange(10))
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), np.arange(10) * 10)


def test_cifar_batches(cifar_test):
    loader = data.DataLoader(cifar_test, batch_size=100, shuffle=True, generator=0)
    images, labels = next(iter(loader))
    assert isinstance(images, mt.Tensor) and images.dtype == np.uint8
    assert images.shape == (100, 3, 32, 32) and labels.dtype == np.int64 and labels.shape == (100,)
    images, labels = next(iter(data.DataLoader(cifar_test, batch_size=100, transform=AUGMENT)))
    assert images.dtype == np.float32 and images.shape == (100, 3, 32, 32)


@pytest.mark.parametrize("device", DEVICES)
def test_device(device, cifar_test):
    images, labels = next(iter(data.DataLoader(cifar_test, batch_size=8, device=device)))
    assert images.device == mt.devices.normalize(device) and labels.device == images.device


# ---------------------------------------------------------------- shuffling
def test_every_sample_once_per_epoch_and_new_order_each_epoch():
    loader = data.DataLoader(_indexed(103), batch_size=10, shuffle=True, generator=7)
    orders = [np.concatenate([b[0] for b in _epoch(loader)]) for _ in range(3)]
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(103))
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    assert loader.epoch == 3


def test_shuffle_with_drop_last_drops_a_random_remainder():
    loader = data.DataLoader(_indexed(10), batch_size=4, shuffle=True, drop_last=True, generator=1)
    seen = np.concatenate([b[0] for b in _epoch(loader)])
    assert len(seen) == 8 and len(set(seen.tolist())) == 8


def test_same_seed_same_batches_different_seed_different():
    cifar_like = _indexed(50)
    run = [_epoch(data.DataLoader(cifar_like, 8, shuffle=True, generator=3)) for _ in range(2)]
    _assert_same_batches(run[0], run[1])
    other = _epoch(data.DataLoader(cifar_like, 8, shuffle=True, generator=4))
    assert not np.array_equal(np.concatenate([b[0] for b in other]),
                              np.concatenate([b[0] for b in run[0]]))  # fmt: skip


def test_manual_seed_fixes_a_loader_without_generator():
    mt.manual_seed(11)
    first = _epoch(data.DataLoader(_indexed(30), 7, shuffle=True))
    mt.manual_seed(11)
    second = _epoch(data.DataLoader(_indexed(30), 7, shuffle=True))
    _assert_same_batches(first, second)


def test_numpy_generator_argument():
    first = data.DataLoader(_indexed(30), 7, shuffle=True, generator=np.random.default_rng(5))
    second = data.DataLoader(_indexed(30), 7, shuffle=True, generator=np.random.default_rng(5))
    assert first.seed == second.seed
    _assert_same_batches(_epoch(first), _epoch(second))


def test_each_batch_and_epoch_draws_its_own_augmentation():
    image = np.arange(3 * 32 * 32, dtype=np.uint8).reshape(1, 3, 32, 32)
    same_image = np.repeat(image, 8, axis=0)
    dataset = data.TensorDataset(same_image, np.zeros(8, np.int64))
    loader = data.DataLoader(dataset, 4, generator=0, transform=T.RandomCrop(32, padding=4))
    epoch_0, epoch_1 = _epoch(loader), _epoch(loader)
    assert not np.array_equal(epoch_0[0][0], epoch_0[1][0])  # batch 0 vs batch 1
    assert not np.array_equal(epoch_0[0][0], epoch_1[0][0])  # epoch 0 vs epoch 1


# ---------------------------------------------------------------- resuming
def test_resume_at_an_epoch_with_set_epoch(cifar_test):
    original = data.DataLoader(cifar_test, 128, shuffle=True, generator=42, transform=AUGMENT)
    epochs = [_epoch(original) for _ in range(3)]
    resumed = data.DataLoader(cifar_test, 128, shuffle=True, generator=42, transform=AUGMENT)
    resumed.set_epoch(2)
    _assert_same_batches(_epoch(resumed), epochs[2])
    _assert_same_batches(_epoch(resumed), _epoch(original))  # and continues in step


def _train_until_interrupted(loader, batches):
    """Iterate like a training loop that gets Ctrl-C after ``batches`` batches."""
    for k, _ in enumerate(loader):
        if k + 1 == batches:
            raise KeyboardInterrupt


def test_resume_mid_epoch_with_state_dict(cifar_test):
    original = data.DataLoader(cifar_test, 100, shuffle=True, generator=5, transform=AUGMENT)
    _epoch(original)  # epoch 0
    full_epoch_1 = _epoch(original)
    original.set_epoch(1)  # replay epoch 1, interrupted after 3 batches
    with pytest.raises(KeyboardInterrupt):
        _train_until_interrupted(original, 3)
    gc.collect()  # the interrupted iterator is gone; the loader still knows the position
    state = original.state_dict()
    assert state == {"seed": 5, "epoch": 1, "batch": 3}
    resumed = data.DataLoader(cifar_test, 100, shuffle=True, generator=999, transform=AUGMENT)
    resumed.load_state_dict(state)
    rest = _epoch(resumed)
    _assert_same_batches(rest, full_epoch_1[3:])
    assert resumed.state_dict() == {"seed": 5, "epoch": 2, "batch": 0}


def test_state_dict_during_an_epoch():
    loader = data.DataLoader(_indexed(10), 3, generator=0)
    iterator = iter(loader)
    assert loader.state_dict() == {"seed": 0, "epoch": 0, "batch": 0}
    next(iterator), next(iterator)
    assert loader.state_dict() == {"seed": 0, "epoch": 0, "batch": 2}
    next(iterator), next(iterator)  # the last batch: the epoch is complete
    assert loader.state_dict() == {"seed": 0, "epoch": 1, "batch": 0}
    stale = iter(loader)  # epoch 1 ...
    newer = iter(loader)  # ... abandoned for epoch 2: only the newest iterator reports
    next(stale)
    assert loader.state_dict() == {"seed": 0, "epoch": 2, "batch": 0}
    next(newer)
    assert loader.state_dict() == {"seed": 0, "epoch": 2, "batch": 1}
    loader.set_epoch(5)
    assert loader.state_dict() == {"seed": 0, "epoch": 5, "batch": 0}


def test_state_dict_between_epochs():
    loader = data.DataLoader(_indexed(10), 3, shuffle=True, generator=0)
    assert loader.state_dict() == {"seed": 0, "epoch": 0, "batch": 0}
    _epoch(loader)
    assert loader.state_dict() == {"seed": 0, "epoch": 1, "batch": 0}
    with pytest.raises(ValueError, match="batch"):
        loader.load_state_dict({"seed": 0, "epoch": 0, "batch": 5})


# ---------------------------------------------------------------- fast path and prefetch
def test_prefetch_on_and_off_give_identical_batches(cifar_test):
    with_prefetch = data.DataLoader(cifar_test, 64, shuffle=True, generator=1, transform=AUGMENT)
    without = data.DataLoader(cifar_test, 64, shuffle=True, generator=1, transform=AUGMENT,
                              prefetch=False)  # fmt: skip
    for _ in range(2):
        _assert_same_batches(_epoch(with_prefetch), _epoch(without))


def test_fast_path_equals_per_sample_path(cifar_test):
    fast = data.DataLoader(cifar_test, 50, shuffle=True, generator=2, transform=AUGMENT)
    slow = data.DataLoader(
        PlainDataset(cifar_test), 50, shuffle=True, generator=2, transform=AUGMENT
    )
    _assert_same_batches(_epoch(fast), _epoch(slow))


def test_fast_path_is_used():
    class BatchOnly(data.Dataset):
        calls = 0

        def __len__(self):
            return 10

        def __getitem__(self, index):
            raise AssertionError("the loader should use get_batch")

        def get_batch(self, indices, generator=None):
            BatchOnly.calls += 1
            return [np.asarray(indices) * 2]

    batches = _epoch(data.DataLoader(BatchOnly(), 4))
    assert BatchOnly.calls == 3
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), np.arange(10) * 2)


@pytest.mark.parametrize("prefetch", [True, False])
def test_exception_in_the_dataset_reaches_the_caller(prefetch):
    loader = data.DataLoader(FailingDataset(), 5, prefetch=prefetch)
    iterator = iter(loader)
    next(iterator), next(iterator)  # samples 0-9 are fine
    with pytest.raises(ValueError, match="sample 13 is broken"):
        next(iterator)
    with pytest.raises(StopIteration):  # the epoch is over after the error
        next(iterator)
    if prefetch:
        assert not iterator._batches.thread.is_alive()


def test_thread_ends_when_iteration_stops_early(cifar_test):
    loader = data.DataLoader(cifar_test, 16, transform=AUGMENT)
    iterator = iter(loader)
    next(iterator)
    thread = iterator._batches.thread
    assert thread.is_alive()
    iterator.close()
    assert not thread.is_alive()


def test_thread_ends_when_iterator_and_loader_are_dropped(cifar_test):
    def prefetch_threads():
        return {t for t in threading.enumerate() if t.name == "minitorch_cv-prefetch"}

    before = prefetch_threads()
    loader = data.DataLoader(cifar_test, 16, transform=AUGMENT)
    for _ in loader:
        break  # the for loop drops its iterator
    iterator = iter(loader)
    next(iterator)
    thread = iterator._batches.thread
    del iterator, loader
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert prefetch_threads() <= before


# ---------------------------------------------------------------- data sets and collate
def test_subset_and_random_split(cifar_test):
    first, second = data.random_split(cifar_test, [0.75, 0.25], generator=0)
    assert len(first) + len(second) == 846
    assert set(first.indices.tolist()).isdisjoint(second.indices.tolist())
    again, _ = data.random_split(cifar_test, [0.75, 0.25], generator=0)
    np.testing.assert_array_equal(first.indices, again.indices)
    images, labels = next(iter(data.DataLoader(first, 10)))
    np.testing.assert_array_equal(images.numpy(), cifar_test.data[first.indices[:10]])
    np.testing.assert_array_equal(labels.numpy(), cifar_test.targets[first.indices[:10]])
    image, label = first[0]
    np.testing.assert_array_equal(image, cifar_test.data[first.indices[0]])
    parts = data.random_split(_indexed(10), [0.33, 0.33, 0.34], generator=0)
    assert [len(p) for p in parts] == [4, 3, 3]  # floors 3, 3, 3; the remainder goes first
    parts = data.random_split(_indexed(10), [2, 8], generator=0)
    assert sorted(np.concatenate([p.indices for p in parts]).tolist()) == list(range(10))
    with pytest.raises(ValueError, match="lengths"):
        data.random_split(cifar_test, [100, 100])
    with pytest.raises(IndexError, match="indices"):
        data.Subset(cifar_test, [0, 846])


def test_tensor_dataset():
    dataset = data.TensorDataset(mt.arange(6), np.arange(6) * 2.0)
    x, y = dataset[4]
    assert isinstance(x, mt.Tensor) and x.item() == 4 and y.item() == 8.0
    with pytest.raises(ValueError, match="same size in the first dimension"):
        data.TensorDataset(np.zeros(3), np.zeros(4))


def test_collate_rules():
    samples = [
        (np.ones((2, 2), np.uint8), 3, 0.5, {"id": 1}),
        (np.zeros((2, 2), np.uint8), 4, 1.5, {"id": 2}),
    ]
    images, ints, floats, dicts = data.collate(samples)
    assert images.shape == (2, 2, 2) and images.dtype == np.uint8
    assert ints.dtype == np.int64 and floats.dtype == np.float64  # PyTorch's rules
    np.testing.assert_array_equal(dicts["id"], [1, 2])
    with pytest.raises(TypeError, match="cannot batch"):
        data.collate([object(), object()])


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(_indexed(3), batch_size=0)
    with pytest.raises(TypeError, match="generator"):
        data.DataLoader(_indexed(3), generator="seed")
    with pytest.raises(ValueError, match="generator"):
        data.DataLoader(_indexed(3), generator=-1)
    with pytest.raises(TypeError, match="dataset"):
        data.DataLoader(42)
    with pytest.raises(ValueError, match="device"):
        data.DataLoader(_indexed(3), device="tpu")
