"""Where the data pipeline's random numbers come from.

Shuffling and augmentation must be reproducible from one seed *and* resumable: a run
restarted at epoch 7, batch 30 must see exactly the batches the interrupted run would
have seen. So no state is carried from one batch or epoch to the next. Every draw comes
from a generator built from a key,

    shuffle order of epoch e:           derive(seed, e, SHUFFLE)
    random transforms of batch k of e:  derive(seed, e, AUGMENT, k)
    worker processes' base seed of e:   derive(seed, e, WORKERS)

and resuming needs only (seed, epoch, batch), never a replay of earlier draws. The key
always has four words, so keys of different purposes can never coincide (NumPy's
SeedSequence pads shorter keys with zeros, which would make (s, e) equal (s, e, 0)).
"""
import numbers

import numpy as np

from .. import random as _random

SHUFFLE = 0
AUGMENT = 1
WORKERS = 2


def derive(seed, epoch, purpose, batch=0):
    """A fresh NumPy generator for one (seed, epoch, purpose, batch) key."""
    return np.random.default_rng(np.random.SeedSequence([seed, epoch, purpose, batch]))


def numpy_generator(generator):
    """None -> minitorch_cv's CPU generator (``manual_seed`` fixes it); an int -> a new
    generator seeded with it; a NumPy generator as it is."""
    if generator is None:
        return _random.generator("cpu")
    if isinstance(generator, np.random.Generator):
        return generator
    is_int = isinstance(generator, numbers.Integral) and not isinstance(generator, bool)
    if is_int and generator >= 0:
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"generator: expected None, a non-negative int seed or a numpy.random.Generator, "
        f"got {generator!r}"
    )


def base_seed(generator):
    """The loader's seed: an int as it is; otherwise one 63-bit draw from the generator
    (minitorch_cv's CPU generator for None, so ``manual_seed`` then fixes the seed)."""
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        if generator < 0:
            raise ValueError(f"generator: expected a non-negative seed, got {generator}")
        return int(generator)
    return int(numpy_generator(generator).integers(0, 2**63))
