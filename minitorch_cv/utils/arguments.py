"""Command-line options shared by the training scripts, each checked when parsed.

A value that would train nonsense is refused by argparse with the option's name and the
expected range (exit status 2, no traceback): an infinite or absurd learning rate (it
trains NaN), a negative seed, a momentum of 1. ``add_training_options`` declares the
options that every training script has, with the same names, types and help.
"""
import argparse
import math

from ..devices import normalize as normalize_device

# Learning rates and weight decays beyond these diverge for every network of the zoo;
# they are refused as typos (1e300, inf) rather than trained into NaN.
MAX_LR = 100.0
MAX_WEIGHT_DECAY = 1.0
MAX_SEED = 2**63 - 1


def _number(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def positive_number(text):
    """A finite number > 0 (a scale factor)."""
    value = _number(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def non_negative_number(text):
    """A finite number >= 0 (a loss weight, a deformation's strength)."""
    value = _number(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def learning_rate(text):
    value = _number(text)
    if not (math.isfinite(value) and 0 < value <= MAX_LR):
        raise argparse.ArgumentTypeError(f"expected a number in (0, {MAX_LR:g}], got {text}")
    return value


def weight_decay(text):
    value = _number(text)
    if not (math.isfinite(value) and 0 <= value <= MAX_WEIGHT_DECAY):
        raise argparse.ArgumentTypeError(
            f"expected a number in [0, {MAX_WEIGHT_DECAY:g}], got {text}")
    return value


def fraction(text):
    value = _number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text}")
    return value


def seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected an integer in [0, 2**63 - 1], got {text}")
    return value


def device(text):
    try:
        return str(normalize_device(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_training_options(add, defaults):
    """Declare the options every training script shares through ``add(*names,
    default=..., **kwargs)`` (the script's ``parser.add_argument`` wrapper);
    ``defaults`` gives the script's recipe: epochs, batch_size, lr, momentum,
    weight_decay, schedule, out (a description of the default output folder)."""
    add("--device", default="cpu", type=device, help="cpu or gpu (cuda accepted)")
    add("--epochs", default=defaults["epochs"], type=positive_int)
    add("--batch-size", default=defaults["batch_size"], type=positive_int)
    add("--lr", default=defaults["lr"], type=learning_rate,
        help="learning rate (the peak with onecycle)")
    add("--momentum", default=defaults["momentum"], type=fraction,
        help="SGD momentum (cosine, multistep; onecycle cycles it itself)")
    add("--nesterov", default=True, action=argparse.BooleanOptionalAction,
        help="Nesterov momentum (default on)")
    add("--weight-decay", default=defaults["weight_decay"], type=weight_decay)
    add("--schedule", default=defaults["schedule"], choices=("onecycle", "cosine", "multistep"))
    add("--label-smoothing", default=defaults.get("label_smoothing", 0.0), type=fraction)
    add("--train-subset", default=None, type=positive_int, metavar="N",
        help="train on the first N training images only (quick runs)")
    add("--test-subset", default=None, type=positive_int, metavar="N",
        help="evaluate on the first N test images only (quick runs)")
    add("--seed", default=0, type=seed, help="seeds the weights, the shuffling and the augmentation")
    add("--out", default=None, metavar="DIR", help=f"output folder (default {defaults['out']})")
    add("--resume", default=None, nargs="?", const="", metavar="PATH",
        help="continue from PATH (a checkpoint or its folder; default DIR/checkpoint.npz)")
    add("--overwrite", default=False, action="store_true",
        help="start a new run in a folder that holds one, replacing it")


def script_parser(description, epilog=None, suppress_defaults=False):
    """(parser, add) for a training script. ``add(*names, default=..., **kwargs)``
    declares an option; with ``suppress_defaults`` the parser returns only the options
    actually typed (how --resume tells an explicit choice from a default)."""
    parser = argparse.ArgumentParser(
        description=description, epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS if suppress_defaults else None,
    )

    def add(*names, default=None, **kwargs):
        if not suppress_defaults:
            kwargs["default"] = default
        parser.add_argument(*names, **kwargs)

    return parser, add
