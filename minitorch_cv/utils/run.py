"""A training run on disk: epochs, metrics.json, checkpoints, Ctrl-C and --resume.

    run = Run(out, model, optimizer, train_loader, test_loader, train_loss, test_loss,
              device, epochs, scheduler=scheduler, checkpoint_extra={"format": ..., "args": ...})
    status = run.train()          # 0, or EXIT_INTERRUPTED after Ctrl-C (checkpoint saved)
    run.summary()

Every epoch is the two loops of ``training.py``, then a record in metrics.json, the
checkpoint and the curves:

    for epoch in range(run.state.epoch, epochs):
        train = train_one_epoch(model, train_loader, optimizer, train_loss, device,
                                scheduler=scheduler, stop=stop)
        test = evaluate(model, test_loader, test_loss, device, stop=stop)
        records.append(record(epoch, train, test)); write metrics.json, checkpoint.npz

Files in ``out``: ``metrics.json`` (one record per epoch, rewritten atomically),
``checkpoint.npz`` (``training_state`` + the run: epoch, records, best accuracy, an
unfinished epoch's partial sums, plus ``checkpoint_extra``), ``curves.png``.

Ctrl-C (``StopOnInterrupt``) stops after the current step; the checkpoint then holds the
unfinished epoch too, and a resumed run finishes it with the same numbers as an
uninterrupted one. A run whose training loss becomes NaN or infinite stops at the end of
that epoch without saving it (the checkpoint keeps the last finite epoch) and
``train()`` returns EXIT_DIVERGED.

No run is lost by accident: ``check_out_folder`` refuses to start a new run in a folder
that holds one (a checkpoint or metrics) unless the user asked to ``resume`` it or to
``overwrite`` it (then the new run replaces the old files when it first saves: at the
end of its first epoch, or on Ctrl-C). A new run writes nothing before that.

Runs that report other figures (segmentation: pixel accuracy and mIoU on a validation
split) subclass Run and override what is classification's: ``new_metrics()`` (the sums
of one pass), ``record()`` (metrics.json's entry), ``epoch_line()``, ``result_line()``,
and the class attributes ``best_key`` (the record entry that ranks epochs) and
``splits`` (the record prefixes of the two passes).

``read_checkpoint`` and ``restore`` turn every problem of a checkpoint given to
``--resume`` (missing, corrupt, crafted, of another script, of another model) into a
``RunError``: a message for the user, never a traceback.
"""
import argparse
import math
import os
import sys
import tempfile

from ..serialization import CheckpointError, load, save
from .checkpoint import restore_training_state, training_state
from .interrupt import StopOnInterrupt
from .metrics import RunningMetrics, write_json_atomic
from .plotting import plot_curves
from .progress import ProgressBar
from .training import evaluate, train_one_epoch

EXIT_USAGE = 2  # argparse's status for a bad command line
EXIT_INTERRUPTED = 130  # the shell's convention for "ended by SIGINT"
EXIT_DIVERGED = 3
FILES = ("metrics.json", "checkpoint.npz", "curves.png")
# What a checkpoint of a Run holds besides ``checkpoint_extra`` (checked on --resume).
CHECKPOINT_KEYS = ("model", "optimizer", "rng", "loader", "epoch", "records", "partial")


class RunError(Exception):
    """A problem the user can fix (an occupied folder, a bad checkpoint): printed as one
    message, without a traceback."""


# ---------------------------------------------------------------- the output folder
def check_out_folder(out, resume=False, overwrite=False):
    """Make sure a run may write to ``out``: a folder (created if missing) where files
    can be written, and not holding another run unless ``resume`` or ``overwrite``."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise RunError(f"--out {out}: a file of that name exists; give a folder")
    try:
        os.makedirs(out, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise RunError(f"--out {out}: cannot write there ({error.strerror or error})") from None
    held = [name for name in ("checkpoint.npz", "metrics.json")
            if os.path.exists(os.path.join(out, name))]
    if held and not resume and not overwrite:
        raise RunError(
            f"--out {out} holds an earlier run ({', '.join(held)}). Pass --resume to continue "
            "it, --overwrite to replace it (its files stay until the new run's first epoch "
            "ends), or another --out"
        )


# ------------------------------------------------------------------- the run's state
class RunState:
    """What a checkpoint holds besides the model/optimizer/scheduler/loader states."""

    def __init__(self, epoch=0, records=(), partial=None):
        self.epoch = epoch              # completed epochs (= len(records))
        self.records = list(records)    # metrics.json
        self.partial = partial          # an unfinished epoch: {"train": RunningMetrics
                                        # state, "trained": its training part is complete}

    def best(self, key="test_acc"):
        """(best value of ``key``, its epoch), or (None, None) before the first epoch.
        A value that is None or NaN (a figure undefined on an empty split) ranks last."""
        if not self.records:
            return None, None
        record = max(self.records, key=lambda r: _ranked(r[key]))
        return record[key], record["epoch"]


def _ranked(value):
    return -math.inf if value is None or math.isnan(value) else value


def epoch_record(epoch, train, test, optimizer):
    """metrics.json's record of a classification epoch."""
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


# ------------------------------------------------------------------------- the run
class Run:
    """One training run: the objects it trains, where it writes, and its RunState.

    train_loss / test_loss: ``loss(output, *targets)`` (the test loss is reported as is,
    e.g. unsmoothed); checkpoint_extra: entries added to every checkpoint (the script's
    format name and arguments); title: the curves' title; resume_command: how the user
    continues after Ctrl-C (printed); after_step: called after every optimizer step.

    The checkpoint holds the best value of ``best_key`` as ``best_<name>`` where
    ``best_key`` is ``<split>_<name>`` (``best_acc`` for ``test_acc``).
    """

    best_key = "test_acc"
    splits = ("train", "test")

    def __init__(self, out, model, optimizer, train_loader, test_loader, train_loss, test_loss,
                 device, epochs, scheduler=None, state=None, checkpoint_extra=None, title=None,
                 resume_command=None, after_step=None):
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.train_loader, self.test_loader = train_loader, test_loader
        self.train_loss, self.test_loss = train_loss, test_loss
        self.device, self.epochs = device, epochs
        self.state = state if state is not None else RunState()
        self.checkpoint_extra = dict(checkpoint_extra or {})
        self.title = title
        self.after_step = after_step
        self.paths = {name: os.path.join(out, name) for name in FILES}
        self.resume_command = resume_command or f"--resume {self.paths['checkpoint.npz']}"
        self.plotted = None  # True/False once curves.png was (not) drawn

    # --------------------------------------- what a subclass with other figures replaces
    def new_metrics(self):
        """The running sums of one pass (training or test)."""
        return RunningMetrics()

    def record(self, epoch, train, test):
        """metrics.json's record of epoch ``epoch`` (1-based) from the two passes' sums."""
        return epoch_record(epoch, train, test, self.optimizer)

    def epoch_line(self, record):
        """The line printed at the end of an epoch."""
        best, _ = self.state.best(self.best_key)
        return (f"epoch {record['epoch']:{len(str(self.epochs))}d}/{self.epochs}  "
                f"train loss {record['train_loss']:.4f} acc {record['train_acc'] * 100:5.2f}%  "
                f"test loss {record['test_loss']:.4f} acc {record['test_acc'] * 100:5.2f}%  "
                f"(best {best * 100:.2f}%)  {record['seconds']:.1f} s, "
                f"{record['images_per_second']:.0f} img/s")

    def result_line(self):
        """The summary's line of results."""
        best, best_epoch = self.state.best(self.best_key)
        final = self.state.records[-1]["test_acc"]
        return f"best test accuracy {best * 100:.2f}% (epoch {best_epoch}), final {final * 100:.2f}%"

    # ------------------------------------------------------------------------ the loop
    def save(self):
        best, best_epoch = self.state.best(self.best_key)
        best_name = "best_" + self.best_key.partition("_")[2]
        save(training_state(self.model, self.optimizer, self.scheduler, self.train_loader,
                            **self.checkpoint_extra, epoch=self.state.epoch,
                            **{best_name: best}, best_epoch=best_epoch,
                            records=self.state.records, partial=self.state.partial),
             self.paths["checkpoint.npz"])

    def interrupted(self, train=None, trained=False):
        """Save (with the unfinished epoch's ``train`` metrics, if any) and say how to
        continue; the exit status."""
        if train is not None:
            self.state.partial = {"train": train.state_dict(), "trained": trained}
            self.save()  # (otherwise the end of the last epoch was just saved)
        print(f"\ninterrupted: checkpoint saved to {self.paths['checkpoint.npz']}; continue "
              f"with\n    {self.resume_command}", flush=True)
        return EXIT_INTERRUPTED

    def epoch(self, epoch, stop):
        """Train (or finish training) epoch ``epoch`` (0-based), test, record, save.
        Returns an exit status when the run must end here, else None."""
        state = self.state
        train, trained = self.new_metrics(), False
        if state.partial is not None:  # resuming an epoch that was interrupted
            train.load_state_dict(state.partial["train"])
            trained = state.partial["trained"]
        if not trained:
            bar = ProgressBar(len(self.train_loader), desc=f"epoch {epoch + 1}/{self.epochs}",
                              unit="img", initial=train.batches)
            train_one_epoch(self.model, self.train_loader, self.optimizer, self.train_loss,
                            self.device, scheduler=self.scheduler, metrics=train, progress=bar,
                            stop=stop, after_step=self.after_step)
            bar.close()
            if train.batches < len(self.train_loader):
                return self.interrupted(train, trained=False)
        if not math.isfinite(train.loss):
            print(f"\nthe training loss became {train.loss} in epoch {epoch + 1}: the run "
                  "diverged (a smaller --lr or --weight-decay may help); the checkpoint keeps "
                  f"the last finite epoch ({state.epoch})", file=sys.stderr, flush=True)
            return EXIT_DIVERGED
        bar = None
        if sys.stderr.isatty():  # in a log the epoch line below is enough for the test pass
            bar = ProgressBar(len(self.test_loader), desc=f"  {self.splits[1]}", unit="img")
        test = evaluate(self.model, self.test_loader, self.test_loss, self.device,
                        progress=bar, stop=stop, metrics=self.new_metrics())
        if bar is not None:
            bar.close()
        if test is None:
            return self.interrupted(train, trained=True)

        record = self.record(epoch + 1, train, test)
        state.records.append(record)
        state.epoch, state.partial = epoch + 1, None
        write_json_atomic(self.paths["metrics.json"], state.records)
        self.save()
        self.plotted = plot_curves(state.records, self.paths["curves.png"], title=self.title,
                                   splits=self.splits)
        print(self.epoch_line(record), flush=True)
        return None

    def train(self):
        """All remaining epochs; the exit status (0, EXIT_INTERRUPTED, EXIT_DIVERGED)."""
        with StopOnInterrupt() as stop:
            for epoch in range(self.state.epoch, self.epochs):
                status = self.epoch(epoch, stop)
                if status is not None:
                    return status
                if stop.requested and epoch + 1 < self.epochs:
                    return self.interrupted()
        return 0

    def run(self):
        """``train()``, then ``summary()`` when it ended normally; the exit status."""
        status = self.train()
        if status == 0:
            self.summary()
        return status

    def summary(self):
        if not self.state.records:
            print("nothing to do: no epochs trained", flush=True)
            return
        if self.plotted is None:
            print(f"the run had already finished its {self.epochs} epochs (pass a larger "
                  "--epochs to train longer)", flush=True)
        print(self.result_line(), flush=True)
        print(f"wrote {self.paths['metrics.json']} and {self.paths['checkpoint.npz']}",
              flush=True)
        if self.plotted:
            print(f"wrote {self.paths['curves.png']}", flush=True)
        elif self.plotted is False:
            print('curves.png skipped: matplotlib is not installed (pip install -e ".[plot]")',
                  flush=True)


# --------------------------------------------------------------------- resuming
def read_checkpoint(path, format_name, best_key="test_acc"):
    """The checkpoint at ``path`` after checking that it is a Run's checkpoint of the
    script ``format_name`` (its "format" entry) with every entry a Run needs (records
    holding a number at ``best_key``: the Run's ``best_key``)."""
    if not os.path.isfile(path):
        raise RunError(f"--resume: no checkpoint at {path}")
    try:
        checkpoint = load(path, map_location="cpu")
    except (CheckpointError, OSError) as error:
        raise RunError(f"--resume: {error}") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != format_name:
        raise RunError(f"--resume: {path} is not a checkpoint of {format_name}.py")
    missing = [key for key in CHECKPOINT_KEYS + ("args",) if key not in checkpoint]
    wrong = [key for key, kind in (("args", dict), ("records", list), ("model", dict),
                                   ("partial", (dict, type(None))))
             if key in checkpoint and not isinstance(checkpoint[key], kind)]
    if missing or wrong:
        raise RunError(f"--resume: {path} is damaged (missing {missing}, wrong types {wrong})")
    records, epoch = checkpoint["records"], checkpoint["epoch"]
    if type(epoch) is not int or epoch != len(records) or not all(
            isinstance(r, dict) and type(r.get("epoch")) is int
            and isinstance(r.get(best_key), (int, float)) for r in records):
        raise RunError(f"--resume: {path} is damaged (its epoch count and records disagree)")
    return checkpoint


def adopt_recipe(checkpoint, args, explicit, recipe, changeable, parser):
    """Set ``args``' recipe options (``recipe``) from the checkpoint, noting those typed
    differently (``explicit``: the options actually typed); ``changeable`` options come
    from the checkpoint unless typed. Every value taken from the checkpoint is checked
    as ``parser`` checks the command line (a crafted checkpoint cannot smuggle in an
    --lr of 1e300 or a --batch-size of "x")."""
    saved = checkpoint["args"]
    actions = {action.dest: action for action in parser._actions}
    for key in recipe + tuple(changeable):
        if key in saved:
            saved[key] = _checked(key, saved[key], actions.get(key))
    for key in recipe:
        if key not in saved:
            raise RunError(f"--resume: the checkpoint's arguments lack {key!r}")
        if key in explicit and explicit[key] != saved[key]:
            print(f"note: --{key.replace('_', '-')} {explicit[key]} ignored: the run continues "
                  f"with its checkpoint's {saved[key]}", flush=True)
        setattr(args, key, saved[key])
    for key in changeable:
        if key not in explicit and key in saved:
            setattr(args, key, saved[key])


def _checked(key, value, action):
    """``value`` of option ``key`` from a checkpoint, validated by its parser ``action``
    (item by item for an option that takes a list: nargs "+" or N, action "append")."""
    if value is None or action is None:
        return value
    try:
        if action.nargs not in (None, 0, "?") or isinstance(action, argparse._AppendAction):
            if not isinstance(value, (list, tuple)):
                raise ValueError("expected a list")
            return [_checked_item(item, action) for item in value]
        return _checked_item(value, action)
    except (ValueError, TypeError, argparse.ArgumentTypeError) as error:
        raise RunError(f"--resume: the checkpoint's --{key.replace('_', '-')} {value!r} is not "
                       f"valid ({error})") from None


def _checked_item(value, action):
    if action.nargs == 0:  # a flag
        if not isinstance(value, bool):
            raise ValueError("expected True or False")
    elif action.type is not None:
        if isinstance(value, (bool, dict, list, tuple)):
            raise ValueError(f"expected a {getattr(action.type, '__name__', 'value')}")
        value = action.type(str(value))
    if action.choices is not None and value not in action.choices:
        raise ValueError(f"expected one of {', '.join(map(str, action.choices))}")
    return value


def restore(checkpoint, epochs, model, optimizer, scheduler, loader, device, make_scheduler, lr,
            new_metrics=RunningMetrics):
    """Put the checkpoint's states into freshly built objects; returns (RunState,
    scheduler). ``make_scheduler()`` builds the schedule for ``epochs`` epochs as a fresh
    run does (peak ``lr``); it is used when ``epochs`` differs from the checkpoint's: the
    new schedule is advanced by the steps already taken (stretched to the new length).
    ``new_metrics()``: the Run's (checks an unfinished epoch's sums)."""
    state = RunState(checkpoint["epoch"], checkpoint["records"], checkpoint["partial"])
    started = state.epoch + (state.partial is not None)
    if epochs < started:
        raise RunError(f"--epochs {epochs}: the run has already trained {started} epochs")
    same_schedule = epochs == checkpoint["args"].get("epochs")
    try:
        restore_training_state(checkpoint, model, optimizer,
                               scheduler if same_schedule else None, loader)
        if not same_schedule and scheduler is not None:
            # A different number of epochs is a different schedule: build it for the new
            # length and advance it by the steps already taken.
            print(f"note: --epochs {checkpoint['args'].get('epochs')} -> {epochs}: the "
                  "learning-rate schedule is stretched to the new length", flush=True)
            restart_schedule(optimizer, lr)
            scheduler = make_scheduler()
            for _ in range(int(checkpoint["scheduler"]["last_epoch"])):
                scheduler.step()
        if state.partial is not None:
            # The partial sums were saved from the training device; put them on this one.
            train = state.partial["train"]
            for key, value in train.items():
                if hasattr(value, "to"):
                    train[key] = value.to(device)
            new_metrics().load_state_dict(train)  # checks its entries
    except RunError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as error:
        raise RunError(f"--resume: the checkpoint does not fit this run ({type(error).__name__}: "
                       f"{error})") from None
    return state, scheduler


def build_schedule(name, optimizer, lr, total_steps):
    """The learning-rate schedules of the scripts, all stepped once per batch: onecycle
    (PyTorch's OneCycleLR defaults: warm-up over 30% of the steps from lr/25 to lr,
    cosine annealing to lr/25e4, momentum cycled between 0.95 and 0.85), cosine (lr to
    0), multistep (lr / 10 after 50% and 75% of the steps, He et al.'s CIFAR schedule)."""
    from ..optim import lr_scheduler

    if name == "onecycle":
        return lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps)
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "multistep":
        milestones = [int(total_steps * 0.5), int(total_steps * 0.75)]
        return lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=0.1)
    raise ValueError(f"schedule: expected onecycle, cosine or multistep, got {name!r}")


def restart_schedule(optimizer, lr):
    """Put the param groups back in a fresh run's state (before a schedule is built)."""
    for group in optimizer.param_groups:
        group["lr"] = lr
        group.pop("initial_lr", None)


# ------------------------------------------------------------------ a script's main
def resume_path(resume, out):
    """The checkpoint ``--resume`` names: ``resume`` (a file, or a folder holding
    checkpoint.npz), or with a bare --resume (``resume == ""``) the output folder's."""
    if resume:
        path = os.path.expanduser(resume)
        return os.path.join(path, "checkpoint.npz") if os.path.isdir(path) else path
    return os.path.join(out, "checkpoint.npz")


def script_main(argv, build_parser, run):
    """A training script's main: parse ``argv`` (also with ``build_parser(True)``, which
    keeps only the options actually typed), call ``run(args, explicit)`` and return its
    exit status; a RunError is printed as one line (status 2), a second Ctrl-C aborts
    (status 130)."""
    argv = sys.argv[1:] if argv is None else [str(arg) for arg in argv]  # paths welcome
    args = build_parser().parse_args(argv)
    explicit = vars(build_parser(suppress_defaults=True).parse_args(argv))
    try:
        return run(args, explicit)
    except RunError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\naborted (no checkpoint written for the current epoch)", file=sys.stderr,
              flush=True)
        return EXIT_INTERRUPTED
