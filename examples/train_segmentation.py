"""Train a segmentation network on CamVid or ISBI 2012; report pixel accuracy and mIoU.

    python examples/train_segmentation.py --dataset isbi2012 --data-dir ../shared/data
    python examples/train_segmentation.py --dataset camvid --data-dir ../shared/data

Each data set has a recipe: the defaults below, chosen to finish in minutes on a CPU
(options given on the command line replace them).

    isbi2012  U-Net (padded, base_channels 16, 1.9M parameters) on the 25 training
              slices, each seen 8 times per epoch as a random 256x256 crop after the
              paper's elastic deformation (3x3 grid, sigma 10 px) and random flips, with
              the paper's weighted loss (border weight map, w0 10, sigma 5); Adam lr 1e-3,
              cosine schedule, batch 4, 12 epochs (600 steps); validation on the 5
              held-out slices at full size (512x512)
    camvid    U-Net (padded, base_channels 16, BatchNorm after every 3x3 convolution:
              without it the network collapses to the class prior on these road scenes
              at this learning rate) on the 123 training images downscaled to 180x240,
              each seen twice per epoch: random scale 0.75-1.25, a 176x240 crop
              (Unlabelled where the scaled image is smaller), flips; plain cross entropy
              (``--class-weights median``: SegNet's median-frequency weights, which trade
              pixel accuracy for the rare classes); Adam lr 1e-3, cosine, batch 4, 10
              epochs (610 steps); validation on the 51 validation images at 180x240

``--arch`` builds any model of ``models.segmentation``; ``--model-option KEY=VALUE``
passes constructor arguments and replaces the recipe's (``--model-option
base_channels=16 --model-option padding=False``: the paper's unpadded network, run on
whole images with mirrored borders). Models whose
output is a dict (torchvision's ``fcn_resnet50``, ``deeplabv3_resnet50`` with
``aux_loss=True``) train on ``out`` + ``--aux-weight`` x ``aux``. Gray ISBI slices are
repeated to three channels for models without an ``in_channels`` argument.

Data (``--data-dir``, else $MINITORCH_CV_DATA): a folder holding the archive or the
extracted folder (``camvid-subset.tar.gz`` / ``CamVid``, ``isbi2012-em.tar.gz`` /
``isbi2012-em``), or the archive or folder itself. ``--image-size H [W]`` downscales
the whole data set once, before training (one int: the shorter side).

Output in ``--out`` (default runs/<dataset>-<arch>):
    metrics.json     one record per epoch (rewritten atomically): epoch, train_loss,
                     train_acc (pixel accuracy), train_miou, val_loss (the plain cross
                     entropy, without weight maps), val_acc,
                     val_mean_acc, val_miou, val_fw_iou, val_iou (per class), seconds,
                     images_per_second, lr
    checkpoint.npz   everything needed to continue (atomically, every epoch and on
                     Ctrl-C); ``--resume`` continues exactly where it stopped
    predictions.png  at the end: for ``--figures`` validation images, the image, the
                     ground truth and the prediction (CamVid's colours; ISBI: membrane
                     black, cell white)
    curves.png       loss and pixel accuracy per epoch (with matplotlib)

Ctrl-C stops after the current batch, saves the checkpoint and exits with status 130;
run the same command with ``--resume`` to continue (a second Ctrl-C aborts at once). A
resumed run keeps its checkpoint's recipe and may change --device, --data-dir and
--epochs (a new --epochs stretches the schedule).
"""
import argparse
import ast
import inspect
import os
import sys

import numpy as np

import minitorch_cv as mt
from minitorch_cv import data, models, optim
from minitorch_cv.data import joint_transforms as JT
from minitorch_cv.data import transforms as T
from minitorch_cv.data.errors import ENV_VAR
from minitorch_cv.data.weight_maps import median_frequency_weights, unet_weight_map
from minitorch_cv.devices import normalize as normalize_device
from minitorch_cv.models import segmentation
from minitorch_cv.serialization import CheckpointError
from minitorch_cv.utils import (
    ProgressBar,
    SegmentationMetrics,
    StopOnInterrupt,
    evaluate,
    plot_curves,
    prediction_grid,
    restore_training_state,
    train_one_epoch,
    training_state,
    write_json_atomic,
)
from minitorch_cv.visualize import save_png

CHECKPOINT_FORMAT = "train_segmentation"
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
DATASETS = ("isbi2012", "camvid")
# The recipe of each data set: the defaults of the options it names.
RECIPES = {
    "isbi2012": {
        "arch": "unet", "model_option": ["base_channels=16", "padding=True"],
        "image_size": None, "crop_size": [256], "scale": None, "elastic": 10.0, "flip": True,
        "weight_maps": True, "class_weights": "none", "epochs": 12, "repeat": 8,
        "batch_size": 4, "optimizer": "adam", "lr": 1e-3, "weight_decay": 0.0,
        "schedule": "cosine",
    },
    "camvid": {
        "arch": "unet", "model_option": ["base_channels=16", "padding=True", "batch_norm=True"],
        "image_size": [180, 240], "crop_size": [176, 240], "scale": [0.75, 1.25],
        "elastic": 0.0, "flip": True, "weight_maps": False, "class_weights": "none",
        "epochs": 10, "repeat": 2, "batch_size": 4, "optimizer": "adam", "lr": 1e-3,
        "weight_decay": 0.0, "schedule": "cosine",
    },
}
# Options that define a run: on --resume they come from the checkpoint.
RECIPE = ("dataset", "arch", "model_option", "image_size", "crop_size", "scale", "elastic",
          "flip", "weight_maps", "class_weights", "batch_size", "optimizer", "lr",
          "momentum", "weight_decay", "schedule", "aux_weight", "repeat", "train_subset",
          "val_subset", "seed")


class UsageError(Exception):
    """A problem the user can fix: printed as one message, no traceback."""


# ------------------------------------------------------------------------ arguments
def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def _non_negative_float(text):
    value = float(text)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def _device(text):
    try:
        return normalize_device(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _model_option(text):
    key, equals, value = text.partition("=")
    if not equals or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        ast.literal_eval(value)  # a Python literal: 16, True, (12, 24, 36), "x"
    except (ValueError, SyntaxError):
        raise argparse.ArgumentTypeError(f"{key}: {value!r} is not a Python literal") from None
    return text


def build_parser(suppress_defaults=False):
    """The command line; with ``suppress_defaults`` only the options typed remain."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Options shown without a default take the data set's recipe; see the top of "
               "examples/train_segmentation.py for the recipes and outputs.",
        argument_default=argparse.SUPPRESS if suppress_defaults else None,
    )

    def add(*names, default=None, **kwargs):
        if not suppress_defaults:
            kwargs["default"] = default
        parser.add_argument(*names, **kwargs)

    arches = models.list_models(module=segmentation)
    add("--dataset", default="isbi2012", choices=DATASETS)
    add("--data-dir", help="data folder or archive (default: $MINITORCH_CV_DATA)")
    add("--device", default="cpu", type=_device, help="cpu or gpu (cuda accepted)")
    add("--arch", choices=arches, metavar="ARCH", help=f"one of {', '.join(arches)}")
    add("--model-option", action="append", type=_model_option, metavar="KEY=VALUE",
        help="a constructor argument of the model (repeat for several)")
    add("--image-size", nargs="+", type=_positive_int, metavar="N",
        help="downscale the data set to H W (or the shorter side to N) once, first")
    add("--crop-size", nargs="+", type=_positive_int, metavar="N",
        help="random training crops of H W (or N N) pixels")
    add("--scale", nargs=2, type=_positive_float, metavar=("LOW", "HIGH"),
        help="random scale factor range of the training images")
    add("--elastic", type=_non_negative_float, metavar="SIGMA",
        help="U-Net elastic deformation, SIGMA pixels (0: off)")
    add("--flip", action=argparse.BooleanOptionalAction, help="random flips")
    add("--weight-maps", action=argparse.BooleanOptionalAction,
        help="U-Net border weight map in the loss (ISBI 2012 only)")
    add("--class-weights", choices=("none", "median"),
        help="class weights of the loss: median frequency balancing or none")
    add("--epochs", type=_positive_int)
    add("--batch-size", type=_positive_int)
    add("--optimizer", choices=("sgd", "adam"))
    add("--lr", type=_positive_float)
    add("--momentum", default=0.9, type=_non_negative_float, help="SGD momentum")
    add("--weight-decay", type=_non_negative_float)
    add("--schedule", choices=("cosine", "poly", "constant"),
        help="learning rate per step: cosine to 0, poly (1 - t/T)^0.9 (DeepLab), constant")
    add("--aux-weight", default=0.5, type=_non_negative_float,
        help="weight of the auxiliary head's loss (models with one)")
    add("--repeat", type=_positive_int, metavar="N",
        help="passes over the training images per epoch, each with its own augmentation")
    add("--train-subset", type=_positive_int, metavar="N", help="the first N training images")
    add("--val-subset", type=_positive_int, metavar="N", help="the first N validation images")
    add("--figures", default=4, type=int, metavar="N",
        help="validation images in predictions.png (0: none)")
    add("--seed", default=0, type=int, help="seeds the weights, the shuffling, the augmentation")
    add("--out", metavar="DIR", help="output folder (default runs/<dataset>-<arch>)")
    add("--resume", nargs="?", const="", metavar="PATH",
        help="continue from PATH (a checkpoint or its folder; default DIR/checkpoint.npz)")
    return parser


def apply_recipe(args, explicit):
    """Fill the options not given with the data set's recipe."""
    for key, value in RECIPES[args.dataset].items():
        if key not in explicit:
            setattr(args, key, value)
    if "arch" in explicit and args.arch != RECIPES[args.dataset]["arch"] \
            and "model_option" not in explicit:
        args.model_option = []  # the recipe's options belong to the recipe's model


def model_options(args):
    return {key: ast.literal_eval(value)
            for key, _, value in (option.partition("=") for option in args.model_option or [])}


def _pair(values):
    return None if values is None else (values[0], values[-1])


# ----------------------------------------------------------------------------- data
def _subset(dataset, count):
    """Keep the first ``count`` samples of a SegmentationDataset."""
    if count is not None and count < len(dataset):
        dataset.images, dataset.masks = dataset.images[:count], dataset.masks[:count]


def _downscale(dataset, size):
    """Resize every sample of ``dataset`` once (images bilinear, label maps nearest)."""
    resize = JT.Resize(size[0] if len(size) == 1 else (size[0], size[1]))
    resized = [resize(image, mask) for image, mask in zip(dataset.images, dataset.masks)]
    dataset.images = np.stack([image for image, _ in resized])
    dataset.masks = np.stack([mask for _, mask in resized])


def load_data(args):
    """(train set, val set) with the run's subsets and size applied."""
    if args.data_dir is None and not os.environ.get(ENV_VAR):
        raise UsageError(f"pass --data-dir (the folder holding the {args.dataset} archive, e.g. "
                         f"../shared/data) or set {ENV_VAR}")
    try:
        if args.dataset == "camvid":
            train_set = data.CamVid(args.data_dir, split="train")
            val_set = data.CamVid(args.data_dir, split="val")
        else:
            train_set = data.ISBI2012(args.data_dir, split="train")
            val_set = data.ISBI2012(args.data_dir, split="val")
    except (data.DatasetNotFoundError, data.DatasetCorruptError) as error:
        raise UsageError(f"{error}\n\nPass --data-dir PATH or set {ENV_VAR}=PATH (offline, "
                         "with the shared data beside the checkout: --data-dir ../shared/data)"
                         ) from None
    for dataset, count in ((train_set, args.train_subset), (val_set, args.val_subset)):
        _subset(dataset, count)
        if args.image_size:
            _downscale(dataset, args.image_size)
    if args.weight_maps:
        if args.dataset != "isbi2012":
            raise UsageError("--weight-maps: the U-Net weight map is for ISBI 2012's cells")
        train_set.maps = np.stack([unet_weight_map(mask) for mask in train_set.masks])
    return train_set, val_set


def _gray_to_rgb(image, *maps):
    return (np.repeat(image, 3, axis=0),) + maps


def build_transforms(args, dataset, three_channels):
    """(train transforms, val transforms) of the recipe."""
    if args.dataset == "camvid":
        normalize = T.Normalize(data.CAMVID_MEAN, data.CAMVID_STD)
    else:
        normalize = T.Normalize(data.ISBI2012_MEAN, data.ISBI2012_STD)
    fill = dataset.ignore_index if dataset.ignore_index is not None else 0
    train = []
    if args.elastic:
        train.append(JT.ElasticDeformation(sigma=args.elastic))
    if args.scale and tuple(args.scale) != (1.0, 1.0):
        train.append(JT.RandomScale(_pair(args.scale)))
    if args.crop_size:
        train.append(JT.RandomCrop(_pair(args.crop_size), mask_fill=fill))
    if args.flip:
        train.append(JT.RandomHorizontalFlip())
        if args.dataset == "isbi2012":  # EM slices have no up or down
            train.append(JT.RandomVerticalFlip())
    train.append(normalize)
    val = [normalize]
    if three_channels:
        train.append(_gray_to_rgb)
        val.append(_gray_to_rgb)
    return JT.Compose(train), JT.Compose(val)


def input_channels(args, train_set):
    """The model's input channels: the images', or 3 for gray images and a model that
    takes RGB only (no ``in_channels`` argument): those are repeated to 3 channels."""
    builder = models.get_model_builder(args.arch)
    if train_set.images.shape[1] == 1 and "in_channels" not in inspect.signature(builder).parameters:
        return 3
    return train_set.images.shape[1]


def build_data(args):
    """(train set, val set, (train loader, val loader), class weights or None): the
    recipe's data, as ``benchmarks/bench_segmentation.py`` also feeds it to PyTorch."""
    train_set, val_set = load_data(args)
    needs_rgb = input_channels(args, train_set) != train_set.images.shape[1]
    train_set.transforms, val_set.transforms = build_transforms(args, train_set, needs_rgb)
    epoch_set = data.Subset(train_set, np.tile(np.arange(len(train_set)), args.repeat))
    train_loader = data.DataLoader(epoch_set, batch_size=args.batch_size, shuffle=True,
                                   drop_last=len(epoch_set) > args.batch_size,
                                   generator=args.seed, device=args.device)
    val_loader = data.DataLoader(val_set, batch_size=args.batch_size, device=args.device)
    class_weights = None
    if args.class_weights == "median":
        class_weights = median_frequency_weights(train_set.masks, train_set.num_classes)
    return train_set, val_set, (train_loader, val_loader), class_weights


# ---------------------------------------------------------------- model and optimizer
def build_model(args, in_channels, num_classes):
    builder = models.get_model_builder(args.arch)
    options = model_options(args)
    parameters = inspect.signature(builder).parameters
    accepted = [name for name in parameters if name not in ("num_classes", "weights", "progress")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise UsageError(f"--model-option: {args.arch} has no argument {', '.join(unknown)}; "
                         f"it takes {', '.join(accepted)}")
    if "in_channels" in parameters:
        options.setdefault("in_channels", in_channels)
    model = builder(num_classes=num_classes, **options)
    if getattr(model, "margin", 0):  # the unpadded U-Net: whole images, mirrored borders
        model = segmentation.OverlapTile(model)
    return model


def build_scheduler(args, optimizer, total_steps):
    if args.schedule == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if args.schedule == "poly":
        return optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: max(1 - step / total_steps, 0.0) ** 0.9)
    return optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)


def build_training(args, in_channels, num_classes, steps_per_epoch):
    mt.manual_seed(args.seed)
    model = build_model(args, in_channels, num_classes).to(args.device)
    if args.optimizer == "adam":
        optimizer = optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    else:
        optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                              weight_decay=args.weight_decay)
    scheduler = build_scheduler(args, optimizer, args.epochs * steps_per_epoch)
    return model, optimizer, scheduler


# ----------------------------------------------------------------------- checkpoints
class RunState:
    """What a checkpoint holds besides the model/optimizer/scheduler/loader states."""

    def __init__(self):
        self.epoch = 0          # completed epochs (= len(records))
        self.records = []       # metrics.json
        self.partial = None     # an unfinished epoch: {"train": metrics state, "trained": bool}

    @property
    def best(self):
        """(best validation mIoU, its epoch), or (None, None) before the first epoch."""
        if not self.records:
            return None, None
        record = max(self.records, key=lambda r: _defined(r["val_miou"], -1.0))
        return record["val_miou"], record["epoch"]


def _defined(value, default):
    """``value``, or ``default`` when it is None or NaN (an empty validation set)."""
    return default if value is None or value != value else value


def default_out(args):
    return os.path.join("runs", f"{args.dataset}-{args.arch}")


def checkpoint_path(args, explicit):
    if args.resume:
        path = os.path.expanduser(args.resume)
        return os.path.join(path, "checkpoint.npz") if os.path.isdir(path) else path
    return os.path.join(args.out if "out" in explicit else default_out(args), "checkpoint.npz")


def read_checkpoint(path, args, explicit):
    """Load ``path`` and adopt its run's recipe; returns the checkpoint."""
    if not os.path.isfile(path):
        raise UsageError(f"--resume: no checkpoint at {path}")
    try:
        checkpoint = mt.load(path, map_location="cpu")
    except CheckpointError as error:
        raise UsageError(f"--resume: {error}") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise UsageError(f"--resume: {path} is not a checkpoint of train_segmentation.py")
    saved = checkpoint["args"]
    for key in RECIPE:
        if key in explicit and explicit[key] != saved[key]:
            print(f"note: --{key.replace('_', '-')} {explicit[key]} ignored: the run continues "
                  f"with its checkpoint's {saved[key]}", flush=True)
        setattr(args, key, saved[key])
    for key in ("epochs", "device", "data_dir", "figures"):
        if key not in explicit:
            setattr(args, key, saved[key])
    if args.out is None:
        args.out = os.path.dirname(os.path.abspath(path))
    return checkpoint


def restore(checkpoint, args, model, optimizer, scheduler, train_loader, steps_per_epoch):
    """The checkpoint's states put into the fresh objects; (RunState, scheduler)."""
    state = RunState()
    state.epoch, state.records = checkpoint["epoch"], list(checkpoint["records"])
    state.partial = checkpoint["partial"]
    if args.epochs < state.epoch + (state.partial is not None):
        raise UsageError(f"--epochs {args.epochs}: the run has already trained "
                         f"{state.epoch + (state.partial is not None)} epochs")
    same_schedule = args.epochs == checkpoint["args"]["epochs"]
    restore_training_state(checkpoint, model, optimizer, scheduler if same_schedule else None,
                           train_loader)
    if not same_schedule:
        print(f"note: --epochs {checkpoint['args']['epochs']} -> {args.epochs}: the "
              "learning-rate schedule is stretched to the new length", flush=True)
        for group in optimizer.param_groups:
            group["lr"] = args.lr
            group.pop("initial_lr", None)
        scheduler = build_scheduler(args, optimizer, args.epochs * steps_per_epoch)
        for _ in range(checkpoint["scheduler"]["last_epoch"]):
            scheduler.step()
    if state.partial is not None:
        train = state.partial["train"]
        if isinstance(train["loss_sum"], mt.Tensor):
            train["loss_sum"] = train["loss_sum"].to(args.device)
    return state, scheduler


# --------------------------------------------------------------------------- running
class Run:
    """One training run: what it trains, where it writes, its RunState."""

    def __init__(self, args, model, optimizer, scheduler, loss_fn, loaders, val_set, state):
        self.args = args
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.loss_fn = loss_fn
        self.train_loader, self.val_loader = loaders
        self.val_set = val_set
        self.state = state
        out = args.out or default_out(args)
        self.paths = {name: os.path.join(out, name) for name in
                      ("metrics.json", "checkpoint.npz", "curves.png", "predictions.png")}

    def new_metrics(self):
        return SegmentationMetrics(self.val_set.num_classes, self.val_set.ignore_index)

    def save(self):
        best, best_epoch = self.state.best
        mt.save(training_state(self.model, self.optimizer, self.scheduler, self.train_loader,
                               format=CHECKPOINT_FORMAT, args=vars(self.args),
                               epoch=self.state.epoch, best_miou=best, best_epoch=best_epoch,
                               records=self.state.records, partial=self.state.partial),
                self.paths["checkpoint.npz"])

    def interrupted(self, train=None, trained=False):
        if train is not None:
            self.state.partial = {"train": train.state_dict(), "trained": trained}
            self.save()
        script = os.path.relpath(os.path.abspath(__file__))
        print(f"\ninterrupted: checkpoint saved to {self.paths['checkpoint.npz']}; continue "
              f"with\n    python {script} --resume {self.paths['checkpoint.npz']}", flush=True)
        return EXIT_INTERRUPTED

    def epoch(self, epoch, stop):
        """Train (or finish) epoch ``epoch`` (0-based), validate, record, save; returns
        EXIT_INTERRUPTED when Ctrl-C stopped it, else None."""
        args, state = self.args, self.state
        train, trained = self.new_metrics(), False
        if state.partial is not None:
            train.load_state_dict(state.partial["train"])
            trained = state.partial["trained"]
        if not trained:
            bar = ProgressBar(len(self.train_loader), desc=f"epoch {epoch + 1}/{args.epochs}",
                              unit="img", initial=train.batches)
            train_one_epoch(self.model, self.train_loader, self.optimizer, self.loss_fn,
                            args.device, scheduler=self.scheduler, metrics=train, progress=bar,
                            stop=stop)
            bar.close()
            if train.batches < len(self.train_loader):
                return self.interrupted(train, trained=False)
        bar = ProgressBar(len(self.val_loader), desc="  val", unit="img") \
            if sys.stderr.isatty() else None
        val = evaluate(self.model, self.val_loader, self.loss_fn, args.device, progress=bar,
                       stop=stop, metrics=self.new_metrics())
        if bar is not None:
            bar.close()
        if val is None:
            return self.interrupted(train, trained=True)
        record = self.record(epoch + 1, train, val)
        state.records.append(record)
        state.epoch, state.partial = epoch + 1, None
        write_json_atomic(self.paths["metrics.json"], state.records)
        self.save()
        plot_curves(state.records, self.paths["curves.png"], title=f"{args.arch} on {args.dataset}",
                    splits=("train", "val"))
        best, _ = state.best
        print(f"epoch {epoch + 1:{len(str(args.epochs))}d}/{args.epochs}  "
              f"train loss {record['train_loss']:.4f} pixel acc {record['train_acc'] * 100:5.2f}% "
              f"mIoU {record['train_miou'] * 100:5.2f}%  val loss {record['val_loss']:.4f} "
              f"pixel acc {record['val_acc'] * 100:5.2f}% mIoU {record['val_miou'] * 100:5.2f}%  "
              f"(best mIoU {best * 100:.2f}%)  {record['seconds']:.1f} s, "
              f"{record['images_per_second']:.1f} img/s", flush=True)
        return None

    def record(self, epoch, train, val):
        train_figures, val_figures = train.compute(), val.compute()
        return {
            "epoch": epoch,
            "train_loss": train.loss, "train_acc": train_figures["pixel_accuracy"],
            "train_miou": train_figures["mean_iou"],
            "val_loss": val.loss, "val_acc": val_figures["pixel_accuracy"],
            "val_mean_acc": val_figures["mean_accuracy"], "val_miou": val_figures["mean_iou"],
            "val_fw_iou": val_figures["fw_iou"], "val_iou": val_figures["iou"],
            "seconds": train.seconds + val.seconds,
            "images_per_second": train.count / max(train.seconds, 1e-9),
            "lr": self.optimizer.param_groups[0]["lr"],
        }

    def train(self):
        with StopOnInterrupt() as stop:
            for epoch in range(self.state.epoch, self.args.epochs):
                status = self.epoch(epoch, stop)
                if status is not None:
                    return status
                if stop.requested and epoch + 1 < self.args.epochs:
                    return self.interrupted()
        return 0

    def write_predictions(self):
        """predictions.png: image | ground truth | prediction for the first validation
        images; returns the path, or None when --figures is 0."""
        count = min(self.args.figures, len(self.val_set))
        if count <= 0:
            return None
        images, masks = self.val_set.get_batch(np.arange(count))[:2]
        self.model.eval()
        with mt.no_grad():
            output = self.model(mt.tensor(images, device=self.args.device))
        scores = output["out"] if isinstance(output, dict) else output
        predictions = scores.argmax(dim=1).numpy()
        normalize = next(t for t in self.val_set.transforms.transforms
                         if isinstance(t, T.Normalize))
        grid = prediction_grid(images[:, :3], masks, predictions, self.val_set.palette,
                               normalize.mean, normalize.std)
        save_png(self.paths["predictions.png"], grid)
        return self.paths["predictions.png"]

    def summary(self):
        if not self.state.records:
            print("nothing to do: no epochs trained", flush=True)
            return
        best, best_epoch = self.state.best
        final = self.state.records[-1]
        print(f"best validation mIoU {best * 100:.2f}% (epoch {best_epoch}); final: pixel "
              f"accuracy {final['val_acc'] * 100:.2f}%, mean accuracy "
              f"{final['val_mean_acc'] * 100:.2f}%, mIoU {final['val_miou'] * 100:.2f}%, "
              f"frequency-weighted IoU {final['val_fw_iou'] * 100:.2f}%", flush=True)
        written = [self.paths["metrics.json"], self.paths["checkpoint.npz"]]
        figure = self.write_predictions()
        if figure is not None:
            written.append(figure)
        if os.path.exists(self.paths["curves.png"]):
            written.append(self.paths["curves.png"])
        print(f"wrote {', '.join(written)}", flush=True)


def describe(args, train_set, val_set, model, class_weights):
    count = sum(p.numel() for p in model.parameters())
    options = " ".join(args.model_option or []) or "defaults"
    print(f"data: {train_set.source}: {len(train_set)} training (x{args.repeat} per epoch), "
          f"{len(val_set)} validation "
          f"images of {train_set.images.shape[2]}x{train_set.images.shape[3]}, "
          f"{train_set.num_classes} classes\n"
          f"model: {args.arch} ({options}), {count:,} parameters, device {args.device}\n"
          f"recipe: {args.epochs} epochs, batch {args.batch_size}, {args.optimizer} lr "
          f"{args.lr}, weight decay {args.weight_decay}, {args.schedule} schedule; crops "
          f"{args.crop_size}, scale {args.scale}, elastic {args.elastic}, flips {args.flip}, "
          f"weight maps {args.weight_maps}, class weights {args.class_weights}"
          + ("" if class_weights is None else f" {np.round(class_weights, 3).tolist()}")
          + f", seed {args.seed}", flush=True)


def run(args, explicit):
    checkpoint = None
    if args.resume is not None:
        path = checkpoint_path(args, explicit)
        checkpoint = read_checkpoint(path, args, explicit)
    else:
        apply_recipe(args, explicit)
    if args.device == "gpu" and not mt.cuda.is_available():
        raise UsageError("--device gpu: no GPU is visible to CuPy (pip install -e \".[gpu]\" on "
                         "a machine with CUDA), or use --device cpu")

    train_set, val_set, (train_loader, val_loader), class_weights = build_data(args)
    model, optimizer, scheduler = build_training(args, input_channels(args, train_set),
                                                 train_set.num_classes, len(train_loader))
    weight = None if class_weights is None else mt.tensor(class_weights.astype(np.float32),
                                                          device=args.device)
    ignore_index = -100 if train_set.ignore_index is None else train_set.ignore_index
    loss_fn = segmentation.SegmentationLoss(weight, ignore_index, args.aux_weight)
    state = RunState()
    if checkpoint is not None:
        state, scheduler = restore(checkpoint, args, model, optimizer, scheduler, train_loader,
                                   len(train_loader))
    run = Run(args, model, optimizer, scheduler, loss_fn, (train_loader, val_loader), val_set,
              state)
    os.makedirs(os.path.dirname(run.paths["checkpoint.npz"]) or ".", exist_ok=True)
    if checkpoint is not None:
        where = train_loader.state_dict()
        print(f"resumed from {path}: {state.epoch} epochs done, continuing at epoch "
              f"{where['epoch'] + 1} batch {where['batch'] + 1}", flush=True)
    elif os.path.exists(run.paths["checkpoint.npz"]):
        print(f"note: {os.path.dirname(run.paths['checkpoint.npz'])} holds an earlier run; "
              "starting a new one over it (use --resume to continue it instead)", flush=True)
    describe(args, train_set, val_set, model, class_weights)
    write_json_atomic(run.paths["metrics.json"], state.records)
    status = run.train()
    if status == 0:
        run.summary()
    return status


def main(argv=None):
    """Run with the command line ``argv``; returns the exit status (0, 2 or 130)."""
    argv = sys.argv[1:] if argv is None else [str(arg) for arg in argv]
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
