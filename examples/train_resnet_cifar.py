"""Train a ResNet on CIFAR-10 and report its test accuracy.

    python examples/train_resnet_cifar.py --device gpu
    python examples/train_resnet_cifar.py --device cpu \\
        --data-dir ../shared/data/cifar-10-subset-python.tar.gz

The defaults are a complete recipe: ResNet-20 (He et al. 2015, 0.27M parameters), 15
epochs of SGD with Nesterov momentum, batch 128, weight decay 5e-4 and the 1cycle
learning-rate policy peaking at 0.1; augmentation by random 32x32 crops of the image
padded by 4 pixels and horizontal flips; inputs normalized with the CIFAR-10 channel
mean and std. On the 4,660-image CIFAR-10 subset of ../shared/data it reaches 62-67%
test accuracy (846 test images; runs differ by a few points, see README).
``--train-subset N`` / ``--test-subset N`` use the first N images only, for quick runs.

Data (``--data-dir``, else $MINITORCH_CV_DATA, else the download cache
~/.cache/minitorch_cv): a folder holding ``cifar-10-batches-py/`` or the archive, the
folder ``cifar-10-batches-py`` itself, or the archive (``cifar-10-python.tar.gz`` or the
subset's). With neither option nor variable the full data set is downloaded into the
cache when the machine can reach it.

Output in ``--out`` (default runs/<arch>):
    metrics.json     one record per epoch (rewritten atomically after each epoch):
                     epoch, train_loss, train_acc, test_loss, test_acc, seconds (train +
                     test time of the epoch), images_per_second (training), lr
    checkpoint.npz   everything needed to continue (written atomically every epoch and
                     on Ctrl-C): model, optimizer, scheduler, data-loader position, RNG,
                     the records, the arguments; ``--resume`` continues exactly where it
                     stopped, even in the middle of an epoch
    curves.png       loss and accuracy per epoch (needs matplotlib: pip install -e ".[plot]")

A new run refuses to start in a folder that holds an earlier run: pass ``--resume`` to
continue it or ``--overwrite`` to replace it (or another ``--out``).

Ctrl-C stops after the current batch, saves the checkpoint and exits with status 130;
run the same command with ``--resume`` to continue. A second Ctrl-C aborts at once. A
run whose loss becomes NaN or infinite stops (status 3) and keeps the last finite epoch.
A resumed run keeps the recipe of its checkpoint (architecture, batch size, lr, ...,
seed; differing options are reported and ignored) and may change --device, --data-dir
and --epochs; a new number of epochs stretches the learning-rate schedule to the new
length, so only a run resumed with its own --epochs repeats an uninterrupted run exactly.

On the GPU the whole step stays there: the loader copies each batch to the device, and
the loss and accuracy are summed on the device and read back only when the progress bar
redraws (at most twice a second on a terminal, ten times per epoch in a log) and once
per epoch.

Schedules (all stepped once per batch): onecycle (PyTorch's OneCycleLR defaults: warm-up
over 30% of the steps from lr/25 to lr, cosine annealing to lr/25e4, and the momentum
cycled between 0.95 and 0.85, which replaces --momentum), cosine (from lr to 0), multistep
(lr divided by 10 after 50% and 75% of the steps, He et al.'s CIFAR schedule).

The epochs, checkpoints, Ctrl-C and --resume are minitorch_cv.utils.run's (shared with
examples/train_classifier.py); this file holds the recipe: data, model, optimizer.
"""
import os
import sys

import minitorch_cv as mt
from minitorch_cv import data, models, nn, optim
from minitorch_cv.data import transforms as T
from minitorch_cv.data.errors import ENV_VAR, cache_dir
from minitorch_cv.utils import arguments
from minitorch_cv.utils.run import (
    Run,
    RunError,
    RunState,
    adopt_recipe,
    build_schedule,
    check_out_folder,
    read_checkpoint,
    restore,
    resume_path,
    script_main,
)

CHECKPOINT_FORMAT = "train_resnet_cifar"
# The networks made for 32x32 images (the ImageNet ones take any name of the registry too).
CIFAR_ARCHS = ("resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "cifar_resnet18",
               "cifar_resnet34", "cifar_resnet50", "preact_resnet18", "preact_resnet110",
               "preact_resnet164", "wide_resnet16_8", "wide_resnet28_10", "wide_resnet40_4",
               "se_resnet20")
# The recipe of a run: on --resume these come from the checkpoint, not the command line.
RECIPE = ("arch", "batch_size", "lr", "momentum", "nesterov", "weight_decay", "schedule",
          "label_smoothing", "train_subset", "test_subset", "seed")
DEFAULTS = {"epochs": 15, "batch_size": 128, "lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4,
            "schedule": "onecycle", "out": "runs/<arch>"}


# ------------------------------------------------------------------------ arguments
def build_parser(suppress_defaults=False):
    """The command line. With ``suppress_defaults`` the result holds only the options
    actually typed (how --resume tells an explicit choice from a default)."""
    parser, add = arguments.script_parser(__doc__.splitlines()[0], "See the top of examples/train_resnet_cifar.py for the recipe and outputs.",
                                          suppress_defaults)

    add("--arch", default="resnet20", choices=models.list_models(), metavar="ARCH",
        help=f"model: one of the CIFAR networks {', '.join(CIFAR_ARCHS)} (default resnet20), "
             "or any other name of models.list_models()")
    add("--data-dir", default=None,
        help="CIFAR-10 folder or archive (default: $MINITORCH_CV_DATA, else the download cache)")
    arguments.add_training_options(add, DEFAULTS)
    return parser


# ----------------------------------------------------------------------------- data
def load_data(args):
    """(train set, test set), subsets applied; a RunError says what to pass when the
    files are missing."""
    root, download = args.data_dir, False
    if root is None and not os.environ.get(ENV_VAR):
        print(f"no --data-dir and no ${ENV_VAR}: using the download cache {cache_dir()}",
              flush=True)
        download = True
    try:
        train_set = data.CIFAR10(root, train=True, download=download)
        test_set = data.CIFAR10(root, train=False)
    except (data.DatasetNotFoundError, data.DatasetCorruptError) as error:
        raise RunError(
            f"{error}\n\nPass --data-dir PATH (a CIFAR-10 folder or archive) or set "
            f"{ENV_VAR}=PATH. Offline, with the project's shared data beside the "
            "checkout: --data-dir ../shared/data/cifar-10-subset-python.tar.gz"
        ) from None
    source = train_set.source
    if args.train_subset is not None and args.train_subset < len(train_set):
        train_set = data.Subset(train_set, range(args.train_subset))
    if args.test_subset is not None and args.test_subset < len(test_set):
        test_set = data.Subset(test_set, range(args.test_subset))
    return train_set, test_set, source


def build_loaders(args, train_set, test_set):
    normalize = T.Normalize(data.CIFAR10_MEAN, data.CIFAR10_STD)
    augment = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), normalize])
    train_loader = data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                   generator=args.seed, transform=augment, device=args.device)
    test_loader = data.DataLoader(test_set, batch_size=2 * args.batch_size,
                                  transform=normalize, device=args.device)
    return train_loader, test_loader


# ---------------------------------------------------------------- model and optimizer
def build_scheduler(args, optimizer, steps_per_epoch):
    return build_schedule(args.schedule, optimizer, args.lr, args.epochs * steps_per_epoch)


def build_training(args, steps_per_epoch):
    mt.manual_seed(args.seed)
    model = models.get_model(args.arch, num_classes=10).to(args.device)
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                          nesterov=args.nesterov, weight_decay=args.weight_decay)
    scheduler = build_scheduler(args, optimizer, steps_per_epoch)
    return model, optimizer, scheduler


# ----------------------------------------------------------------------- output
def default_out(args):
    return os.path.join("runs", args.arch)


# --------------------------------------------------------------------------- running
def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def describe(args, train_set, test_set, source, model):
    epochs = f"{args.epochs} epoch{'s' if args.epochs != 1 else ''}"
    print(f"data: {source}: {len(train_set)} training, {len(test_set)} test images\n"
          f"model: {args.arch}, {count_parameters(model):,} parameters, device {args.device}\n"
          f"recipe: {epochs}, batch {args.batch_size}, SGD lr {args.lr} momentum "
          f"{args.momentum} nesterov {args.nesterov} weight decay {args.weight_decay}, "
          f"{args.schedule} schedule, label smoothing {args.label_smoothing}, seed {args.seed}",
          flush=True)


def run(args, explicit):
    """Set up (or resume) the run described by ``args`` and train it; the exit status."""
    checkpoint = None
    if args.resume is not None:
        path = resume_path(args.resume, args.out if "out" in explicit else default_out(args))
        checkpoint = read_checkpoint(path, CHECKPOINT_FORMAT)
        adopt_recipe(checkpoint, args, explicit, RECIPE, ("epochs", "device", "data_dir"),
                     build_parser())
        if args.out is None:
            args.out = os.path.dirname(os.path.abspath(path))
    if args.nesterov and args.momentum == 0:
        raise RunError("--nesterov needs --momentum > 0 (or pass --no-nesterov)")
    if args.device == "gpu" and not mt.cuda.is_available():
        raise RunError("--device gpu: no GPU is visible to CuPy (install the extra with "
                         'pip install -e ".[gpu]" on a machine with CUDA), or use --device cpu')
    out = args.out or default_out(args)
    check_out_folder(out, resume=checkpoint is not None, overwrite=args.overwrite)

    train_set, test_set, source = load_data(args)
    train_loader, test_loader = build_loaders(args, train_set, test_set)
    model, optimizer, scheduler = build_training(args, len(train_loader))
    state = RunState()
    if checkpoint is not None:
        state, scheduler = restore(
            checkpoint, args.epochs, model, optimizer, scheduler, train_loader, args.device,
            lambda: build_scheduler(args, optimizer, len(train_loader)), args.lr)
    script = os.path.relpath(os.path.abspath(__file__))
    run = Run(out, model, optimizer, train_loader, test_loader,
              nn.CrossEntropyLoss(label_smoothing=args.label_smoothing),
              nn.CrossEntropyLoss(),  # the test loss is reported unsmoothed
              args.device, args.epochs, scheduler=scheduler, state=state,
              checkpoint_extra={"format": CHECKPOINT_FORMAT, "args": vars(args)},
              title=args.arch,
              resume_command=f"python {script} --resume {os.path.join(out, 'checkpoint.npz')}")
    if checkpoint is not None:
        where = train_loader.state_dict()
        print(f"resumed from {path}: {state.epoch} epochs done, continuing at epoch "
              f"{where['epoch'] + 1} batch {where['batch'] + 1}", flush=True)
    describe(args, train_set, test_set, source, model)

    return run.run()


def main(argv=None):
    """Run with the command line ``argv``; returns the exit status (0, 2, 3 or 130)."""
    return script_main(argv, build_parser, run)


if __name__ == "__main__":
    sys.exit(main())
