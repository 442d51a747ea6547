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
resumed run keeps its checkpoint's recipe and may change --device, --data-dir,
--figures and --epochs (a new --epochs stretches the schedule). A new run refuses a
folder that holds one unless given ``--overwrite``. The loop, the files and the
checkpoint checks are ``minitorch_cv.utils.run`` (the classification scripts' too).
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
from minitorch_cv.models import segmentation
from minitorch_cv.utils import SegmentationMetrics, arguments, prediction_grid
from minitorch_cv.utils.run import (
    Run,
    RunError,
    RunState,
    adopt_recipe,
    check_out_folder,
    read_checkpoint,
    restore,
    resume_path,
    script_main,
)
from minitorch_cv.visualize import save_png

CHECKPOINT_FORMAT = "train_segmentation"
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
# Options a resumed run may change (unless typed, they come from the checkpoint too).
CHANGEABLE = ("epochs", "device", "data_dir", "figures")


# ------------------------------------------------------------------------ arguments
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
    parser, add = arguments.script_parser(
        __doc__.splitlines()[0],
        "Options shown without a default take the data set's recipe; see the top of "
        "examples/train_segmentation.py for the recipes and outputs.", suppress_defaults)
    positive_int = arguments.positive_int
    arches = models.list_models(module=segmentation)
    add("--dataset", default="isbi2012", choices=DATASETS)
    add("--data-dir", help="data folder or archive (default: $MINITORCH_CV_DATA)")
    add("--device", default="cpu", type=arguments.device, help="cpu or gpu (cuda accepted)")
    add("--arch", choices=arches, metavar="ARCH", help=f"one of {', '.join(arches)}")
    add("--model-option", action="append", type=_model_option, metavar="KEY=VALUE",
        help="a constructor argument of the model (repeat for several)")
    add("--image-size", nargs="+", type=positive_int, metavar="N",
        help="downscale the data set to H W (or the shorter side to N) once, first")
    add("--crop-size", nargs="+", type=positive_int, metavar="N",
        help="random training crops of H W (or N N) pixels")
    add("--scale", nargs=2, type=arguments.positive_number, metavar=("LOW", "HIGH"),
        help="random scale factor range of the training images")
    add("--elastic", type=arguments.non_negative_number, metavar="SIGMA",
        help="U-Net elastic deformation, SIGMA pixels (0: off)")
    add("--flip", action=argparse.BooleanOptionalAction, help="random flips")
    add("--weight-maps", action=argparse.BooleanOptionalAction,
        help="U-Net border weight map in the loss (ISBI 2012 only)")
    add("--class-weights", choices=("none", "median"),
        help="class weights of the loss: median frequency balancing or none")
    add("--epochs", type=positive_int)
    add("--batch-size", type=positive_int)
    add("--optimizer", choices=("sgd", "adam"))
    add("--lr", type=arguments.learning_rate)
    add("--momentum", default=0.9, type=arguments.fraction, help="SGD momentum")
    add("--weight-decay", type=arguments.weight_decay)
    add("--schedule", choices=("cosine", "poly", "constant"),
        help="learning rate per step: cosine to 0, poly (1 - t/T)^0.9 (DeepLab), constant")
    add("--aux-weight", default=0.5, type=arguments.non_negative_number,
        help="weight of the auxiliary head's loss (models with one)")
    add("--repeat", type=positive_int, metavar="N",
        help="passes over the training images per epoch, each with its own augmentation")
    add("--train-subset", type=positive_int, metavar="N", help="the first N training images")
    add("--val-subset", type=positive_int, metavar="N", help="the first N validation images")
    add("--figures", default=4, type=arguments.non_negative_int, metavar="N",
        help="validation images in predictions.png (0: none)")
    add("--seed", default=0, type=arguments.seed,
        help="seeds the weights, the shuffling, the augmentation")
    add("--out", metavar="DIR", help="output folder (default runs/<dataset>-<arch>)")
    add("--resume", nargs="?", const="", metavar="PATH",
        help="continue from PATH (a checkpoint or its folder; default DIR/checkpoint.npz)")
    add("--overwrite", default=False, action="store_true",
        help="start a new run in a folder that holds one, replacing it")
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
        raise RunError(f"pass --data-dir (the folder holding the {args.dataset} archive, e.g. "
                         f"../shared/data) or set {ENV_VAR}")
    try:
        if args.dataset == "camvid":
            train_set = data.CamVid(args.data_dir, split="train")
            val_set = data.CamVid(args.data_dir, split="val")
        else:
            train_set = data.ISBI2012(args.data_dir, split="train")
            val_set = data.ISBI2012(args.data_dir, split="val")
    except (data.DatasetNotFoundError, data.DatasetCorruptError) as error:
        raise RunError(f"{error}\n\nPass --data-dir PATH or set {ENV_VAR}=PATH (offline, "
                         "with the shared data beside the checkout: --data-dir ../shared/data)"
                         ) from None
    for dataset, count in ((train_set, args.train_subset), (val_set, args.val_subset)):
        _subset(dataset, count)
        if args.image_size:
            _downscale(dataset, args.image_size)
    if args.weight_maps:
        if args.dataset != "isbi2012":
            raise RunError("--weight-maps: the U-Net weight map is for ISBI 2012's cells")
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
        raise RunError(f"--model-option: {args.arch} has no argument {', '.join(unknown)}; "
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


# --------------------------------------------------------------------------- running
class SegmentationRun(Run):
    """utils.run.Run with the segmentation figures: pixel accuracy and mIoU per pass, the
    validation split ranked by mIoU, and predictions.png after the last epoch."""

    best_key = "val_miou"
    splits = ("train", "val")

    def __init__(self, *arguments, val_set, figures, **keywords):
        super().__init__(*arguments, **keywords)
        self.val_set, self.figures = val_set, figures
        self.paths["predictions.png"] = os.path.join(os.path.dirname(self.paths["metrics.json"]),
                                                     "predictions.png")

    def new_metrics(self):
        return SegmentationMetrics(self.val_set.num_classes, self.val_set.ignore_index)

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

    def epoch_line(self, record):
        best, _ = self.state.best(self.best_key)
        return (f"epoch {record['epoch']:{len(str(self.epochs))}d}/{self.epochs}  "
                f"train loss {record['train_loss']:.4f} pixel acc {record['train_acc'] * 100:5.2f}% "
                f"mIoU {record['train_miou'] * 100:5.2f}%  val loss {record['val_loss']:.4f} "
                f"pixel acc {record['val_acc'] * 100:5.2f}% mIoU {record['val_miou'] * 100:5.2f}%  "
                f"(best mIoU {best * 100:.2f}%)  {record['seconds']:.1f} s, "
                f"{record['images_per_second']:.1f} img/s")

    def result_line(self):
        best, best_epoch = self.state.best(self.best_key)
        final = self.state.records[-1]
        return (f"best validation mIoU {best * 100:.2f}% (epoch {best_epoch}); final: pixel "
                f"accuracy {final['val_acc'] * 100:.2f}%, mean accuracy "
                f"{final['val_mean_acc'] * 100:.2f}%, mIoU {final['val_miou'] * 100:.2f}%, "
                f"frequency-weighted IoU {final['val_fw_iou'] * 100:.2f}%")

    def summary(self):
        super().summary()
        if self.state.records and self.write_predictions():
            print(f"wrote {self.paths['predictions.png']}", flush=True)

    def write_predictions(self):
        """predictions.png: image | ground truth | prediction for the first validation
        images; False when --figures is 0."""
        count = min(self.figures, len(self.val_set))
        if count <= 0:
            return False
        images, masks = self.val_set.get_batch(np.arange(count))[:2]
        self.model.eval()
        with mt.no_grad():
            output = self.model(mt.tensor(images, device=self.device))
        scores = output["out"] if isinstance(output, dict) else output
        predictions = scores.argmax(dim=1).numpy()
        normalize = next(t for t in self.val_set.transforms.transforms
                         if isinstance(t, T.Normalize))
        grid = prediction_grid(images[:, :3], masks, predictions, self.val_set.palette,
                               normalize.mean, normalize.std)
        save_png(self.paths["predictions.png"], grid)
        return True


def default_out(args):
    """runs/<dataset>-<arch> (the recipe's arch when --arch was not typed: a bare
    --resume looks there before the checkpoint's recipe is known)."""
    return os.path.join("runs", f"{args.dataset}-{args.arch or RECIPES[args.dataset]['arch']}")


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
        path = resume_path(args.resume, args.out if "out" in explicit else default_out(args))
        checkpoint = read_checkpoint(path, CHECKPOINT_FORMAT, SegmentationRun.best_key)
        adopt_recipe(checkpoint, args, explicit, RECIPE, CHANGEABLE, build_parser())
        if args.out is None:
            args.out = os.path.dirname(os.path.abspath(path))
    else:
        apply_recipe(args, explicit)
    if args.device == "gpu" and not mt.cuda.is_available():
        raise RunError("--device gpu: no GPU is visible to CuPy (pip install -e \".[gpu]\" on "
                       "a machine with CUDA), or use --device cpu")
    out = args.out or default_out(args)
    check_out_folder(out, resume=checkpoint is not None, overwrite=args.overwrite)

    train_set, val_set, (train_loader, val_loader), class_weights = build_data(args)
    steps = len(train_loader)
    model, optimizer, scheduler = build_training(args, input_channels(args, train_set),
                                                 train_set.num_classes, steps)
    weight = None if class_weights is None else mt.tensor(class_weights.astype(np.float32),
                                                          device=args.device)
    ignore_index = -100 if train_set.ignore_index is None else train_set.ignore_index
    loss_fn = segmentation.SegmentationLoss(weight, ignore_index, args.aux_weight)

    def new_metrics():
        return SegmentationMetrics(train_set.num_classes, train_set.ignore_index)

    state = RunState()
    if checkpoint is not None:
        state, scheduler = restore(checkpoint, args.epochs, model, optimizer, scheduler,
                                   train_loader, args.device,
                                   lambda: build_scheduler(args, optimizer, args.epochs * steps),
                                   args.lr, new_metrics)
        where = train_loader.state_dict()
        print(f"resumed from {path}: {state.epoch} epochs done, continuing at epoch "
              f"{where['epoch'] + 1} batch {where['batch'] + 1}", flush=True)
    script = os.path.relpath(os.path.abspath(__file__))
    training = SegmentationRun(
        out, model, optimizer, train_loader, val_loader, loss_fn, loss_fn, args.device,
        args.epochs, scheduler=scheduler, state=state,
        checkpoint_extra={"format": CHECKPOINT_FORMAT, "args": vars(args)},
        title=f"{args.arch} on {args.dataset}",
        resume_command=f"python {script} --resume {os.path.join(out, 'checkpoint.npz')}",
        val_set=val_set, figures=args.figures)
    describe(args, train_set, val_set, model, class_weights)
    status = training.train()
    if status == 0:
        training.summary()
    return status


def main(argv=None):
    """Run with the command line ``argv``; returns the exit status (0, 2, 3 or 130)."""
    return script_main(argv, build_parser, run)


if __name__ == "__main__":
    sys.exit(main())
