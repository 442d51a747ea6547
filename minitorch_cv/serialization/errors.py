"""The exceptions of ``load``."""


class CheckpointError(RuntimeError):
    """A checkpoint file is truncated, corrupt, or not a checkpoint this library reads."""


class UnsafeCheckpointError(CheckpointError):
    """The file holds pickled Python objects and ``weights_only=True`` refuses them."""
