"""Fine-tune a trained classifier on another data set: a new head, a frozen (or slower)
backbone.

    python examples/train_classifier.py --arch resnet20 --dataset mnist \\
        --data-dir ../shared/data --epochs 1 --out runs/mnist-resnet20
    python examples/finetune.py --weights runs/mnist-resnet20/checkpoint.npz \\
        --arch resnet20 --dataset fashion-mnist --data-dir ../shared/data --freeze

``--weights`` is any file ``models.get_model(arch, weights=...)`` reads: a checkpoint of
examples/train_classifier.py (its "model" entry), a PyTorch .pth (torchvision's ImageNet
weights, see the README), a .safetensors file. Then:

1. the last ``nn.Linear`` of the model (its classifier: ``fc``, ``classifier.6``,
   ``heads.head``, ...) is replaced by a fresh ``Linear(in_features, --num-classes)``;
2. ``--freeze``: every other parameter gets ``requires_grad = False`` and only the new
   head is given to the optimizer (the backbone is a fixed feature extractor; its
   BatchNorm statistics are kept by running it in eval mode); otherwise two parameter
   groups: the head at --lr, the backbone at --lr x --backbone-lr-scale (0.1);
3. training is train_classifier.py's (data, transforms, run, checkpoints, curves).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import train_classifier as classifier  # noqa: E402 - the script beside this one

import minitorch_cv as mt  # noqa: E402
from minitorch_cv import data, models, nn, optim  # noqa: E402
from minitorch_cv.utils import arguments  # noqa: E402
from minitorch_cv.utils.run import Run, RunError, build_schedule, check_out_folder, script_main  # noqa: E402


def build_parser(suppress_defaults=False):
    parser, add = arguments.script_parser(__doc__.splitlines()[0], None, suppress_defaults)

    add("--weights", default=None, required=not suppress_defaults, metavar="PATH",
        help="the trained model's weights (a checkpoint, .pth or .safetensors)")
    add("--arch", default="resnet20", choices=models.list_models(), metavar="ARCH")
    add("--source-classes", default=10, type=arguments.positive_int,
        help="classes of the weights' classifier (default 10)")
    add("--num-classes", default=10, type=arguments.positive_int, help="classes of the new task")
    add("--dataset", default="fashion-mnist", choices=sorted(classifier.DATASETS))
    add("--data-dir", default=None)
    add("--in-channels", default=None, type=int, choices=(1, 3))
    add("--image-size", default=None, type=arguments.positive_int)
    add("--freeze", default=False, action="store_true", help="train the new head only")
    add("--backbone-lr-scale", default=0.1, type=arguments.fraction,
        help="without --freeze: the backbone's lr is --lr times this")
    arguments.add_training_options(add, {"epochs": 2, "batch_size": 64, "lr": 0.01,
                                         "momentum": 0.9, "weight_decay": 5e-4,
                                         "schedule": "cosine", "out": "runs/finetune-<arch>"})
    return parser


def replace_classifier(model, num_classes):
    """Swap the model's last nn.Linear for a new one with ``num_classes`` outputs;
    returns its dotted name."""
    linears = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if not linears:
        raise RunError("the model has no nn.Linear classifier to replace")
    name = linears[-1]
    parent_name, _, attribute = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    old = getattr(parent, attribute)
    setattr(parent, attribute, nn.Linear(old.in_features, num_classes))
    return name


class FrozenBackbone(nn.Module):
    """Runs the wrapped model with its backbone in eval mode (BatchNorm statistics kept)
    and only the head ``head_name`` in training mode."""

    def __init__(self, model, head_name):
        super().__init__()
        self.model = model
        self.head_name = head_name

    def forward(self, x):
        return self.model(x)

    def train(self, mode=True):
        super().train(mode)
        self.model.eval()
        self.model.get_submodule(self.head_name).train(mode)
        return self


def run(args, explicit):
    if args.resume is not None:
        raise RunError("--resume: finetune.py runs are short; start again with --overwrite")
    out = args.out or os.path.join("runs", f"finetune-{args.arch}")
    check_out_folder(out, overwrite=args.overwrite)
    mt.manual_seed(args.seed)
    try:
        model = models.get_model(args.arch, weights=args.weights, num_classes=args.source_classes)
    except (FileNotFoundError, ValueError, TypeError, RuntimeError) as error:
        raise RunError(f"--weights {args.weights}: {error}") from None
    head = replace_classifier(model, args.num_classes)
    head_parameters = list(model.get_submodule(head).parameters())
    backbone = [p for p in model.parameters() if all(p is not q for q in head_parameters)]
    if args.freeze:
        for parameter in backbone:
            parameter.requires_grad = False
        model = FrozenBackbone(model, head)
        groups = [{"params": head_parameters}]
    else:
        groups = [{"params": head_parameters},
                  {"params": backbone, "lr": args.lr * args.backbone_lr_scale}]
    model = model.to(args.device)
    optimizer = optim.SGD(groups, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)

    args.crop, args.pca_lighting = None, 0.0
    train_set, test_set = classifier.load_data(args)
    channels = args.in_channels or 3
    train_transform, test_transform = classifier.build_transforms(args, channels)
    train_loader = data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                   generator=args.seed, transform=train_transform, device=args.device)
    test_loader = data.DataLoader(test_set, batch_size=2 * args.batch_size,
                                  transform=test_transform, device=args.device)
    scheduler = build_schedule(args.schedule, optimizer, args.lr, args.epochs * len(train_loader))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"fine-tuning {args.arch} from {args.weights}: new head {head} ({args.num_classes} "
          f"classes), {trainable:,} trainable parameters, "
          f"{'frozen backbone' if args.freeze else f'backbone lr x {args.backbone_lr_scale}'}",
          flush=True)
    training = Run(out, model, optimizer, train_loader, test_loader,
                   nn.CrossEntropyLoss(label_smoothing=args.label_smoothing), nn.CrossEntropyLoss(),
                   args.device, args.epochs, scheduler=scheduler,
                   checkpoint_extra={"format": "finetune", "args": vars(args)},
                   title=f"{args.arch} fine-tuned on {args.dataset}")
    return training.run()


def main(argv=None):
    return script_main(argv, build_parser, run)


if __name__ == "__main__":
    sys.exit(main())
