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

Ctrl-C stops after the current batch, saves the checkpoint and exits with status 130;
run the same command with ``--resume`` to continue. A second Ctrl-C aborts at once.
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
"""
import argparse
import os
import sys

import minitorch_cv as mt
from minitorch_cv import data, models, nn, optim
from minitorch_cv.data import transforms as T
from minitorch_cv.data.errors import ENV_VAR, cache_dir
from minitorch_cv.devices import normalize as normalize_device
from minitorch_cv.serialization import CheckpointError
from minitorch_cv.utils import (
    ProgressBar,
    RunningMetrics,
    StopOnInterrupt,
    evaluate,
    plot_curves,
    restore_training_state,
    train_one_epoch,
    training_state,
    write_json_atomic,
)

CHECKPOINT_FORMAT = "train_resnet_cifar"
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130  # the shell's convention for "ended by SIGINT"
# The networks made for 32x32 images (the ImageNet ones take any name of the registry too).
CIFAR_ARCHS = ("resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "cifar_resnet18",
               "cifar_resnet34", "cifar_resnet50", "preact_resnet18", "preact_resnet110",
               "preact_resnet164", "wide_resnet16_8", "wide_resnet28_10", "wide_resnet40_4",
               "se_resnet20")
# The recipe of a run: on --resume these come from the checkpoint, not the command line.
RECIPE = ("arch", "batch_size", "lr", "momentum", "nesterov", "weight_decay", "schedule",
          "label_smoothing", "train_subset", "test_subset", "seed")


class UsageError(Exception):
    """A problem the user can fix (bad data location, no GPU, no checkpoint): printed as
    one message, no traceback."""


# ------------------------------------------------------------------------ arguments
def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def _non_negative_float(text):
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def _fraction(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text}")
    return value


def _device(text):
    try:
        return normalize_device(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser(suppress_defaults=False):
    """The command line. With ``suppress_defaults`` the result holds only the options
    actually typed (how --resume tells an explicit choice from a default)."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="See the top of examples/train_resnet_cifar.py for the recipe and outputs.",
        argument_default=argparse.SUPPRESS if suppress_defaults else None,
    )

    def add(*names, default=None, **kwargs):
        if not suppress_defaults:
            kwargs["default"] = default
        parser.add_argument(*names, **kwargs)

    add("--device", default="cpu", type=_device, help="cpu or gpu (cuda accepted)")
    add("--arch", default="resnet20", choices=models.list_models(), metavar="ARCH",
        help=f"model: one of the CIFAR networks {', '.join(CIFAR_ARCHS)} (default resnet20), "
             "or any other name of models.list_models()")
    add("--epochs", default=15, type=_positive_int)
    add("--batch-size", default=128, type=_positive_int)
    add("--lr", default=0.1, type=_positive_float, help="learning rate (the peak with onecycle)")
    add("--momentum", default=0.9, type=_fraction,
        help="SGD momentum (cosine, multistep; onecycle cycles it itself)")
    add("--nesterov", default=True, action=argparse.BooleanOptionalAction,
        help="Nesterov momentum (default on)")
    add("--weight-decay", default=5e-4, type=_non_negative_float)
    add("--schedule", default="onecycle", choices=("onecycle", "cosine", "multistep"))
    add("--label-smoothing", default=0.0, type=_fraction)
    add("--data-dir", default=None,
        help="CIFAR-10 folder or archive (default: $MINITORCH_CV_DATA, else the download cache)")
    add("--train-subset", default=None, type=_positive_int, metavar="N",
        help="train on the first N training images only (quick runs)")
    add("--test-subset", default=None, type=_positive_int, metavar="N",
        help="evaluate on the first N test images only (quick runs)")
    add("--seed", default=0, type=int, help="seeds the weights, the shuffling and the augmentation")
    add("--out", default=None, metavar="DIR", help="output folder (default runs/<arch>)")
    add("--resume", default=None, nargs="?", const="", metavar="PATH",
        help="continue from PATH (a checkpoint or its folder; default DIR/checkpoint.npz)")
    return parser


# ----------------------------------------------------------------------------- data
def load_data(args):
    """(train set, test set), subsets applied; a UsageError says what to pass when the
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
        raise UsageError(
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
    total = args.epochs * steps_per_epoch
    if args.schedule == "onecycle":
        return optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=total)
    if args.schedule == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    milestones = [int(total * 0.5), int(total * 0.75)]
    return optim.lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=0.1)


def build_training(args, steps_per_epoch):
    mt.manual_seed(args.seed)
    model = models.get_model(args.arch, num_classes=10).to(args.device)
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                          nesterov=args.nesterov, weight_decay=args.weight_decay)
    scheduler = build_scheduler(args, optimizer, steps_per_epoch)
    return model, optimizer, scheduler


# ----------------------------------------------------------------------- checkpoints
class RunState:
    """What a checkpoint holds besides the model/optimizer/scheduler/loader states."""

    def __init__(self):
        self.epoch = 0          # completed epochs (= len(records))
        self.records = []       # metrics.json
        self.partial = None     # an unfinished epoch: {"train": RunningMetrics state,
                                # "trained": whether its training part is complete}

    @property
    def best(self):
        """(best test accuracy, its epoch), or (None, None) before the first epoch."""
        if not self.records:
            return None, None
        record = max(self.records, key=lambda r: r["test_acc"])
        return record["test_acc"], record["epoch"]


def save_checkpoint(path, args, model, optimizer, scheduler, train_loader, state):
    """model, optimizer, scheduler, loader position, RNG (``training_state``) + the run."""
    best, best_epoch = state.best
    mt.save(training_state(model, optimizer, scheduler, train_loader,
                           format=CHECKPOINT_FORMAT, args=vars(args), epoch=state.epoch,
                           best_acc=best, best_epoch=best_epoch, records=state.records,
                           partial=state.partial), path)


def checkpoint_path(args, explicit):
    """The file --resume names: a path, a folder holding checkpoint.npz, or (bare
    --resume) the output folder's."""
    if args.resume:
        path = os.path.expanduser(args.resume)
        return os.path.join(path, "checkpoint.npz") if os.path.isdir(path) else path
    out = args.out if "out" in explicit else default_out(args)
    return os.path.join(out, "checkpoint.npz")


def read_checkpoint(path, args, explicit):
    """Load ``path`` and adopt the run's recipe from it; returns the checkpoint."""
    if not os.path.isfile(path):
        raise UsageError(f"--resume: no checkpoint at {path}")
    try:
        checkpoint = mt.load(path, map_location="cpu")
    except CheckpointError as error:
        raise UsageError(f"--resume: {error}") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise UsageError(f"--resume: {path} is not a checkpoint of train_resnet_cifar.py")
    saved = checkpoint["args"]
    for key in RECIPE:
        if key in explicit and explicit[key] != saved[key]:
            print(f"note: --{key.replace('_', '-')} {explicit[key]} ignored: the run continues "
                  f"with its checkpoint's {saved[key]}", flush=True)
        setattr(args, key, saved[key])
    for key in ("epochs", "device", "data_dir"):  # may change between sessions
        if key not in explicit:
            setattr(args, key, saved[key])
    if args.out is None:
        args.out = os.path.dirname(os.path.abspath(path))
    return checkpoint


def restore(checkpoint, args, model, optimizer, scheduler, train_loader, steps_per_epoch):
    """Put the checkpoint's states into the freshly built objects; returns RunState
    and the scheduler (rebuilt when --epochs changed the schedule's length)."""
    state = RunState()
    state.epoch = checkpoint["epoch"]
    state.records = list(checkpoint["records"])
    state.partial = checkpoint["partial"]
    if args.epochs < state.epoch + (state.partial is not None):
        raise UsageError(f"--epochs {args.epochs}: the run has already trained "
                         f"{state.epoch + (state.partial is not None)} epochs")
    same_schedule = args.epochs == checkpoint["args"]["epochs"]
    restore_training_state(checkpoint, model, optimizer, scheduler if same_schedule else None,
                           train_loader)
    if not same_schedule:
        # A different number of epochs is a different schedule: build it for the new
        # length and advance it by the steps already taken.
        print(f"note: --epochs {checkpoint['args']['epochs']} -> {args.epochs}: the "
              "learning-rate schedule is stretched to the new length", flush=True)
        for group in optimizer.param_groups:  # start from the state of a fresh run
            group["lr"] = args.lr
            group.pop("initial_lr", None)
        scheduler = build_scheduler(args, optimizer, steps_per_epoch)
        for _ in range(checkpoint["scheduler"]["last_epoch"]):
            scheduler.step()
    if state.partial is not None:
        # The partial sums were saved from the training device; put them on this one.
        train = state.partial["train"]
        for key in ("loss_sum", "correct"):
            if isinstance(train[key], mt.Tensor):
                train[key] = train[key].to(args.device)
    return state, scheduler


def default_out(args):
    return os.path.join("runs", args.arch)


# --------------------------------------------------------------------------- running
def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def epoch_record(epoch, train, test, optimizer):
    return {
        "epoch": epoch,
        "train_loss": train.loss,
        "train_acc": train.accuracy,
        "test_loss": test.loss,
        "test_acc": test.accuracy,
        "seconds": train.seconds + test.seconds,
        "images_per_second": train.count / max(train.seconds, 1e-9),
        "lr": optimizer.param_groups[0]["lr"],
    }


class Run:
    """One training run: the objects it trains, where it writes, and its RunState."""

    def __init__(self, args, model, optimizer, scheduler, train_loader, test_loader, state):
        self.args = args
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.train_loader, self.test_loader = train_loader, test_loader
        self.state = state
        out = args.out or default_out(args)
        self.paths = {name: os.path.join(out, name)
                      for name in ("metrics.json", "checkpoint.npz", "curves.png")}
        self.train_loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
        self.test_loss_fn = nn.CrossEntropyLoss()  # the test loss is reported unsmoothed
        self.plotted = None  # True/False once curves.png was (not) drawn

    def save(self):
        save_checkpoint(self.paths["checkpoint.npz"], self.args, self.model, self.optimizer,
                        self.scheduler, self.train_loader, self.state)

    def interrupted(self, train=None, trained=False):
        """Save (with the unfinished epoch's ``train`` metrics, if any) and say how to
        continue; the exit status."""
        if train is not None:
            self.state.partial = {"train": train.state_dict(), "trained": trained}
            self.save()  # (otherwise the end of the last epoch was just saved)
        script = os.path.relpath(os.path.abspath(__file__))
        print(f"\ninterrupted: checkpoint saved to {self.paths['checkpoint.npz']}; continue "
              f"with\n    python {script} --resume {self.paths['checkpoint.npz']}", flush=True)
        return EXIT_INTERRUPTED

    def epoch(self, epoch, stop):
        """Train (or finish training) epoch ``epoch`` (0-based), test, record, save.
        Returns EXIT_INTERRUPTED when Ctrl-C stopped it, else None."""
        args, state = self.args, self.state
        train, trained = RunningMetrics(), False
        if state.partial is not None:  # resuming an epoch that was interrupted
            train.load_state_dict(state.partial["train"])
            trained = state.partial["trained"]
        if not trained:
            bar = ProgressBar(len(self.train_loader), desc=f"epoch {epoch + 1}/{args.epochs}",
                              unit="img", initial=train.batches)
            train_one_epoch(self.model, self.train_loader, self.optimizer, self.train_loss_fn,
                            args.device, scheduler=self.scheduler, metrics=train, progress=bar,
                            stop=stop)
            bar.close()
            if train.batches < len(self.train_loader):
                return self.interrupted(train, trained=False)
        bar = None
        if sys.stderr.isatty():  # in a log the epoch line below is enough for the test pass
            bar = ProgressBar(len(self.test_loader), desc="  test", unit="img")
        test = evaluate(self.model, self.test_loader, self.test_loss_fn, args.device,
                        progress=bar, stop=stop)
        if bar is not None:
            bar.close()
        if test is None:
            return self.interrupted(train, trained=True)

        record = epoch_record(epoch + 1, train, test, self.optimizer)
        state.records.append(record)
        state.epoch, state.partial = epoch + 1, None
        write_json_atomic(self.paths["metrics.json"], state.records)
        self.save()
        self.plotted = plot_curves(state.records, self.paths["curves.png"], title=args.arch)
        best, _ = state.best
        print(f"epoch {epoch + 1:{len(str(args.epochs))}d}/{args.epochs}  "
              f"train loss {record['train_loss']:.4f} acc {record['train_acc'] * 100:5.2f}%  "
              f"test loss {record['test_loss']:.4f} acc {record['test_acc'] * 100:5.2f}%  "
              f"(best {best * 100:.2f}%)  {record['seconds']:.1f} s, "
              f"{record['images_per_second']:.0f} img/s", flush=True)
        return None

    def train(self):
        """All remaining epochs; the exit status."""
        with StopOnInterrupt() as stop:
            for epoch in range(self.state.epoch, self.args.epochs):
                status = self.epoch(epoch, stop)
                if status is not None:
                    return status
                if stop.requested and epoch + 1 < self.args.epochs:
                    return self.interrupted()
        return 0

    def summary(self):
        if not self.state.records:
            print("nothing to do: no epochs trained", flush=True)
            return
        if self.plotted is None:
            print(f"the run had already finished its {self.args.epochs} epochs (pass a larger "
                  "--epochs to train longer)", flush=True)
        best, best_epoch = self.state.best
        final = self.state.records[-1]["test_acc"]
        print(f"best test accuracy {best * 100:.2f}% (epoch {best_epoch}), "
              f"final {final * 100:.2f}%", flush=True)
        print(f"wrote {self.paths['metrics.json']} and {self.paths['checkpoint.npz']}",
              flush=True)
        if self.plotted:
            print(f"wrote {self.paths['curves.png']}", flush=True)
        elif self.plotted is False:
            print('curves.png skipped: matplotlib is not installed (pip install -e ".[plot]")',
                  flush=True)


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
        path = checkpoint_path(args, explicit)
        checkpoint = read_checkpoint(path, args, explicit)
    if args.nesterov and args.momentum == 0:
        raise UsageError("--nesterov needs --momentum > 0 (or pass --no-nesterov)")
    if args.device == "gpu" and not mt.cuda.is_available():
        raise UsageError("--device gpu: no GPU is visible to CuPy (install the extra with "
                         'pip install -e ".[gpu]" on a machine with CUDA), or use --device cpu')

    train_set, test_set, source = load_data(args)
    train_loader, test_loader = build_loaders(args, train_set, test_set)
    model, optimizer, scheduler = build_training(args, len(train_loader))
    state = RunState()
    if checkpoint is not None:
        state, scheduler = restore(checkpoint, args, model, optimizer, scheduler, train_loader,
                                   len(train_loader))
    run = Run(args, model, optimizer, scheduler, train_loader, test_loader, state)
    os.makedirs(os.path.dirname(run.paths["checkpoint.npz"]) or ".", exist_ok=True)
    if checkpoint is not None:
        where = train_loader.state_dict()
        print(f"resumed from {path}: {state.epoch} epochs done, continuing at epoch "
              f"{where['epoch'] + 1} batch {where['batch'] + 1}", flush=True)
    elif os.path.exists(run.paths["checkpoint.npz"]):
        print(f"note: {os.path.dirname(run.paths['checkpoint.npz'])} holds an earlier run; "
              "starting a new one over it (use --resume to continue it instead)", flush=True)
    describe(args, train_set, test_set, source, model)
    write_json_atomic(run.paths["metrics.json"], state.records)

    status = run.train()
    if status == 0:
        run.summary()
    return status


def main(argv=None):
    """Run with the command line ``argv``; returns the exit status (0, 2 or 130)."""
    argv = sys.argv[1:] if argv is None else [str(arg) for arg in argv]  # paths welcome
    args = build_parser().parse_args(argv)
    explicit = vars(build_parser(suppress_defaults=True).parse_args(argv))
    try:
        return run(args, explicit)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\naborted (no checkpoint written for the current epoch)", file=sys.stderr,
              flush=True)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
