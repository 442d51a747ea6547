"""The state of a training run in one dict, and back: what a checkpoint must hold for a
resumed run to continue exactly where the interrupted one stopped.

    mt.save(training_state(model, optimizer, scheduler, loader, epoch=3), path)
    ...
    state = mt.load(path)
    restore_training_state(state, model, optimizer, scheduler, loader)

Saved: the model's state_dict (parameters and BN running statistics), the optimizer's
(momentum buffers, the param groups' current lr and momentum), the scheduler's (its step
count), the data loader's position (seed, epoch, batch: the shuffling and augmentation
of every later batch follow from it, see ``data/loader.py``) and minitorch_cv's random
generator state; plus any extra entries the caller adds. The objects to restore into are
built as for a fresh run first; restoring then overwrites their state. Order matters:
the optimizer before the scheduler, since building a scheduler rewrites the param
groups' lr and loading the optimizer restores them.
"""
from ..random import get_rng_state, set_rng_state


def training_state(model, optimizer, scheduler=None, loader=None, **extra):
    """A dict of the states above (entries for absent objects are left out) + ``extra``."""
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "rng": get_rng_state()}
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    if loader is not None:
        state["loader"] = loader.state_dict()
    state.update(extra)
    return state


def restore_training_state(state, model, optimizer, scheduler=None, loader=None):
    """Load ``state`` (from ``training_state``) into the given objects, in place."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(state["scheduler"])
    if loader is not None:
        loader.load_state_dict(state["loader"])
    set_rng_state(state["rng"])
