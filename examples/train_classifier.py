"""Train any classification model of the zoo on MNIST, Fashion-MNIST or CIFAR-10.

    python examples/train_classifier.py --arch vgg11_bn --dataset cifar10 \\
        --data-dir ../shared/data/cifar-10-subset-python.tar.gz
    python examples/train_classifier.py --arch mobilenet_v2 --dataset fashion-mnist \\
        --data-dir ../shared/data --in-channels 3 --image-size 32

``--arch`` takes any name of ``models.list_models()`` that classifies images; it is built
with ``num_classes=10``. Images reach the model as it expects them:

    --in-channels C   gray images are repeated to 3 channels when C is 3, colour images
                      turned to gray (ITU-R 601 luma) when C is 1; a model whose builder
                      takes ``in_channels`` is built with C. Default: what the model
                      reads (lenet5: 1, a builder with ``in_channels``: 1, else 3).
    --image-size S    every image resized to S x S once per batch (bilinear, antialiased;
                      e.g. 64 or 224 for the ImageNet networks VGG and AlexNet). Default:
                      the data set's size, except for the models that need another one:
                      lenet5's 32x32 (MNIST padded by 2 pixels, the paper's input),
                      AlexNet's and ZFNet's 224, Inception v3's 299 (resized)
    --crop S          random S x S crops for training and the centre crop for testing
                      (AlexNet's 224 out of 256); CIFAR-10 otherwise gets random crops
                      with 4-pixel padding and horizontal flips, the gray sets nothing

The architectures' training extras: GoogLeNet's and Inception v3's auxiliary classifiers
(in training mode these models return (logits, aux...)): the loss is

    L = CE(logits) + sum_i w_i * CE(aux_i)        w = 0.3 per GoogLeNet head (Szegedy et
                                                  al. 2014), 0.4 for Inception v3's one
                                                  (torchvision's reference script)

(``--aux-weight`` replaces w); ``--label-smoothing``; ``--pca-lighting A`` (AlexNet's PCA
colour noise with standard deviation A, 0.1 in the paper); ``--renormalize-filters R``
(ZFNet's rule after every step: a convolution filter whose RMS exceeds R is scaled back
to R; on by default for zfnet, R = 0.1); ``--stochastic-depth P`` (builds the model with
``stochastic_depth_prob=P``: the CIFAR ResNets, EfficientNet and the others that have it
drop residual branches with a probability growing linearly with depth, the last block's
being P);
``--optimizer adamw`` (Vision Transformers train poorly with SGD on small data). A
model whose builder takes ``image_size`` (the ViTs) is built for the images it gets;
``--patch-size 4`` makes vit_ti_16 / vit_s_16 a CIFAR ViT (64 tokens of 4x4 pixels).

``--amp``: automatic mixed precision is not implemented in minitorch_cv (no autocast:
the GPU kernels compute in float32/float64, and on the CPU NumPy has no fast float16
matrix product), so the option is refused with that explanation on every device.

Everything else is the flagship's (examples/train_resnet_cifar.py): the schedules,
the progress bar, the per-epoch line, metrics.json, checkpoint.npz, curves.png,
--resume, --overwrite, Ctrl-C; the loop is minitorch_cv.utils.run.
"""
import os
import sys

import numpy as np

import minitorch_cv as mt
from minitorch_cv import data, models, nn, optim
from minitorch_cv.data import transforms as T
from minitorch_cv.data.errors import ENV_VAR
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

CHECKPOINT_FORMAT = "train_classifier"
DATASETS = {  # name: (class, channels, size, mean, std)
    "mnist": (data.MNIST, 1, 28, data.MNIST_MEAN, data.MNIST_STD),
    "fashion-mnist": (data.FashionMNIST, 1, 28, data.FASHION_MNIST_MEAN, data.FASHION_MNIST_STD),
    "cifar10": (data.CIFAR10, 3, 32, data.CIFAR10_MEAN, data.CIFAR10_STD),
}
AUX_WEIGHTS = {"googlenet": 0.3, "inception_v3": 0.4}
# Models that need a given input: (channels, size, how smaller images reach that size).
# LeNet-5 reads 32x32 gray digits: MNIST's 28x28 padded by 2 (the paper's input);
# AlexNet's and ZFNet's layer sizes hold for 224x224 images only.
MODEL_INPUTS = {"lenet5": (1, 32, "pad"), "alexnet": (3, 224, "resize"),
                "alexnet_original": (3, 224, "resize"), "zfnet": (3, 224, "resize"),
                "inception_v3": (3, 299, "resize")}
RENORMALIZE = {"zfnet": 0.1}  # ZFNet's filter RMS radius (Zeiler & Fergus 2013)
RECIPE = ("arch", "dataset", "image_size", "in_channels", "crop", "optimizer", "batch_size",
          "lr", "momentum", "nesterov", "weight_decay", "schedule", "label_smoothing",
          "aux_weight", "pca_lighting", "patch_size", "stochastic_depth", "renormalize_filters",
          "train_subset", "test_subset", "seed")
DEFAULTS = {"epochs": 10, "batch_size": 64, "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4,
            "schedule": "onecycle", "out": "runs/<dataset>-<arch>"}


def build_parser(suppress_defaults=False):
    parser, add = arguments.script_parser(__doc__.splitlines()[0], "See the top of examples/train_classifier.py for the options' details.",
                                          suppress_defaults)

    add("--arch", default="resnet20", choices=models.list_models(), metavar="ARCH",
        help="any classification model of models.list_models() (default resnet20)")
    add("--dataset", default="cifar10", choices=sorted(DATASETS))
    add("--data-dir", default=None,
        help="the data set's folder or archive (default: $MINITORCH_CV_DATA)")
    add("--image-size", default=None, type=arguments.positive_int, metavar="S",
        help="resize the images to S x S (default: the data set's size)")
    add("--crop", default=None, type=arguments.positive_int, metavar="S",
        help="random S x S training crops, centre crop for testing")
    add("--in-channels", default=None, type=int, choices=(1, 3),
        help="channels fed to the model (gray repeated / colour to gray)")
    add("--optimizer", default="sgd", choices=("sgd", "adamw"))
    add("--aux-weight", default=None, type=arguments.weight_decay, metavar="W",
        help="weight of each auxiliary classifier's loss (GoogLeNet 0.3, Inception v3 0.4)")
    add("--pca-lighting", default=0.0, type=arguments.weight_decay, metavar="A",
        help="AlexNet's PCA colour noise of standard deviation A (colour images)")
    add("--patch-size", default=None, type=arguments.positive_int, metavar="P",
        help="a Vision Transformer's patch size (4 for 32x32 images)")
    add("--stochastic-depth", default=None, type=arguments.fraction, metavar="P",
        help="build the model with stochastic_depth_prob=P")
    add("--renormalize-filters", default=None, type=arguments.weight_decay, metavar="R",
        help="after every step, scale conv filters of RMS > R to R (ZFNet: 0.1; 0 = off)")
    add("--amp", default=False, action="store_true", help="refused: see the module docstring")
    arguments.add_training_options(add, DEFAULTS)
    return parser


# ----------------------------------------------------------------------------- data
class RepeatChannels(T.Transform):
    """(N, 1, H, W) gray -> (N, 3, H, W) by repeating the channel."""

    def forward(self, images, generator):
        return np.repeat(images, 3, axis=1)


class ToGray(T.Transform):
    """(N, 3, H, W) RGB -> (N, 1, H, W) luma: 0.299 R + 0.587 G + 0.114 B (float32)."""

    def forward(self, images, generator):
        weights = np.array([0.299, 0.587, 0.114], dtype=np.float32).reshape(1, 3, 1, 1)
        gray = (images.astype(np.float32) * weights).sum(axis=1, keepdims=True)
        return gray if images.dtype != np.uint8 else np.rint(gray).astype(np.uint8)


def load_data(args):
    kind, _, _, _, _ = DATASETS[args.dataset]
    try:
        train_set = kind(args.data_dir, train=True)
        test_set = kind(args.data_dir, train=False)
    except (data.DatasetNotFoundError, data.DatasetCorruptError) as error:
        raise RunError(f"{error}\n\nPass --data-dir PATH or set {ENV_VAR}=PATH (offline: "
                       "--data-dir ../shared/data, or for CIFAR-10 "
                       "../shared/data/cifar-10-subset-python.tar.gz)") from None
    if args.train_subset is not None and args.train_subset < len(train_set):
        train_set = data.Subset(train_set, range(args.train_subset))
    if args.test_subset is not None and args.test_subset < len(test_set):
        test_set = data.Subset(test_set, range(args.test_subset))
    return train_set, test_set


def build_transforms(args, model_channels):
    """(training transform, test transform): channels, size, augmentation, normalization."""
    _, channels, size, mean, std = DATASETS[args.dataset]
    common = []
    _, model_size, how = MODEL_INPUTS.get(args.arch, (None, None, None))
    if channels == 1 and model_channels == 3:
        common.append(RepeatChannels())
        mean, std = mean * 3, std * 3
    elif channels == 3 and model_channels == 1:
        common.append(ToGray())
        mean, std = (0.4809,), (0.2392,)  # the luma of CIFAR-10's training images
    if args.image_size is None and how == "pad" and size < model_size:
        common.append(T.CenterCrop(model_size))  # zero padding around the image
        size = model_size
    target = args.image_size or (model_size if how == "resize" and args.crop is None else None)
    if target is not None and target != size:
        common.append(T.Resize((target, target)))
        size = target
    train, test = list(common), list(common)
    if args.crop is not None:
        train += [T.RandomCrop(args.crop), T.RandomHorizontalFlip()]
        test.append(T.CenterCrop(args.crop))
    elif args.dataset == "cifar10":
        train += [T.RandomCrop(size, padding=4 * size // 32), T.RandomHorizontalFlip()]
    if args.pca_lighting > 0:
        if model_channels != 3:
            raise RunError("--pca-lighting needs colour images (--in-channels 3)")
        train.append(T.PCALighting(args.pca_lighting))
    train.append(T.Normalize(mean, std))
    test.append(T.Normalize(mean, std))
    return T.Compose(train), T.Compose(test)


# ---------------------------------------------------------------- model and training
def build_model(args):
    """The model, built with 10 classes (+ in_channels, image_size, patch_size,
    stochastic_depth_prob where it takes them); returns (model, the channels it expects)."""
    import inspect

    builder = models.get_model_builder(args.arch)
    accepted = set(inspect.signature(builder).parameters)
    kwargs = {"num_classes": 10}
    takes_channels = "in_channels" in accepted
    needed = MODEL_INPUTS.get(args.arch, (None,))[0]
    channels = args.in_channels or needed or (1 if takes_channels else 3)
    if takes_channels:
        kwargs["in_channels"] = channels
    elif channels != (needed or 3):
        raise RunError(f"--in-channels {channels}: {args.arch} takes {needed or 3}-channel images")
    if args.patch_size is not None:
        kwargs["patch_size"] = args.patch_size
    if args.stochastic_depth is not None:
        kwargs["stochastic_depth_prob"] = args.stochastic_depth
    # A Vision Transformer's positional embedding is built for one image size: give it
    # the size it will see (builders that take **kwargs are tried with it, then without).
    size = args.crop or args.image_size or DATASETS[args.dataset][2]
    tries = [dict(kwargs, image_size=size), kwargs] if "image_size" in accepted or "kwargs" in \
        accepted else [kwargs]
    for index, attempt in enumerate(tries):
        try:
            model = builder(**attempt)
            break
        except TypeError as error:
            if index == len(tries) - 1:
                raise RunError(f"--arch {args.arch}: cannot be built with {kwargs} ({error})") from None
    return model.to(args.device), channels


class ClassificationLoss:
    """Cross entropy of the logits, plus ``aux_weight`` times that of each auxiliary
    classifier when the model returns a tuple (logits, aux...) (the formula above)."""

    def __init__(self, label_smoothing=0.0, aux_weight=0.0):
        self.cross_entropy = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        self.aux_weight = aux_weight

    def __call__(self, output, labels):
        if not isinstance(output, tuple):
            return self.cross_entropy(output, labels)
        loss = self.cross_entropy(output[0], labels)
        for aux in output[1:]:
            if aux is not None:
                loss = loss + self.aux_weight * self.cross_entropy(aux, labels)
        return loss


def filter_renormalization(args, model):
    """What runs after every optimizer step: ZFNet's filter renormalization, or None."""
    if not args.renormalize_filters:
        return None

    def renormalize():
        models.renormalize_filters_(model, args.renormalize_filters)
    return renormalize


def build_optimizer(args, model):
    if args.optimizer == "adamw":
        return optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    return optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                     nesterov=args.nesterov, weight_decay=args.weight_decay)


def default_out(args):
    return os.path.join("runs", f"{args.dataset}-{args.arch}")


def run(args, explicit):
    checkpoint = None
    if args.resume is not None:
        path = resume_path(args.resume, args.out if "out" in explicit else default_out(args))
        checkpoint = read_checkpoint(path, CHECKPOINT_FORMAT)
        adopt_recipe(checkpoint, args, explicit, RECIPE, ("epochs", "device", "data_dir"),
                     build_parser())
        if args.out is None:
            args.out = os.path.dirname(os.path.abspath(path))
    if args.amp:
        raise RunError("--amp: mixed precision is not implemented in minitorch_cv (no "
                       "autocast; the kernels compute in float32/float64), on any device")
    if args.optimizer == "sgd" and args.nesterov and args.momentum == 0:
        raise RunError("--nesterov needs --momentum > 0 (or pass --no-nesterov)")
    if args.device == "gpu" and not mt.cuda.is_available():
        raise RunError("--device gpu: no GPU is visible to CuPy; use --device cpu")
    if args.aux_weight is None:
        args.aux_weight = AUX_WEIGHTS.get(args.arch, 0.0)
    if args.renormalize_filters is None:
        args.renormalize_filters = RENORMALIZE.get(args.arch, 0.0)
    out = args.out or default_out(args)
    check_out_folder(out, resume=checkpoint is not None, overwrite=args.overwrite)

    train_set, test_set = load_data(args)
    mt.manual_seed(args.seed)
    model, channels = build_model(args)
    train_transform, test_transform = build_transforms(args, channels)
    train_loader = data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                   generator=args.seed, transform=train_transform,
                                   device=args.device)
    test_loader = data.DataLoader(test_set, batch_size=2 * args.batch_size,
                                  transform=test_transform, device=args.device)
    optimizer = build_optimizer(args, model)
    steps = len(train_loader)
    scheduler = build_schedule(args.schedule, optimizer, args.lr, args.epochs * steps)
    state = RunState()
    if checkpoint is not None:
        state, scheduler = restore(
            checkpoint, args.epochs, model, optimizer, scheduler, train_loader, args.device,
            lambda: build_schedule(args.schedule, optimizer, args.lr, args.epochs * steps), args.lr)
        print(f"resumed from {path}: {state.epoch} epochs done", flush=True)
    script = os.path.relpath(os.path.abspath(__file__))
    training = Run(out, model, optimizer, train_loader, test_loader,
                   ClassificationLoss(args.label_smoothing, args.aux_weight),
                   nn.CrossEntropyLoss(), args.device, args.epochs, scheduler=scheduler,
                   state=state, checkpoint_extra={"format": CHECKPOINT_FORMAT, "args": vars(args)},
                   title=f"{args.arch} on {args.dataset}",
                   after_step=filter_renormalization(args, model),
                   resume_command=f"python {script} --resume {os.path.join(out, 'checkpoint.npz')}")
    parameters = sum(p.numel() for p in model.parameters())
    print(f"data: {args.dataset}: {len(train_set)} training, {len(test_set)} test images, "
          f"{channels} channel(s){f', resized to {args.image_size}' if args.image_size else ''}\n"
          f"model: {args.arch}, {parameters:,} parameters, device {args.device}\n"
          f"recipe: {args.epochs} epochs, batch {args.batch_size}, {args.optimizer} lr {args.lr} "
          f"weight decay {args.weight_decay}, {args.schedule} schedule, label smoothing "
          f"{args.label_smoothing}, aux weight {args.aux_weight}, seed {args.seed}", flush=True)
    return training.run()


def main(argv=None):
    """Run with the command line ``argv``; returns the exit status (0, 2, 3 or 130)."""
    return script_main(argv, build_parser, run)


if __name__ == "__main__":
    sys.exit(main())
