"""The segmentation recipes of examples/train_segmentation.py, ours beside PyTorch's.

    python benchmarks/bench_segmentation.py --dataset isbi2012 --data-dir ../shared/data
    python benchmarks/bench_segmentation.py --dataset camvid --data-dir ../shared/data

Runs the recipe twice, each in its own process: minitorch_cv's (the example script
itself) and, when ``import torch`` works, the same recipe in PyTorch: the same U-Net
(module for module; PyTorch starts from a copy of our initial weights), the same
batches (our data sets, joint transforms and loader with the same seed, handed to
PyTorch as arrays), the same loss (cross entropy with the class weights, the ignore id
and, for ISBI 2012, the U-Net weight maps), Adam and the per-step cosine schedule;
validation with our confusion matrix. Then it prints the validation pixel accuracy,
mean accuracy, mIoU and frequency-weighted IoU of the last epoch and the times:

    framework    pixel acc  mean acc  mIoU    fw IoU  train+val s  total s
    minitorch_cv ...
    pytorch      ...

Every option after the known ones goes to both runs (``--epochs 1`` for a quick look;
any option of the example script). ``--threads N`` gives both the same cores (our
Numba and BLAS pools through their environment variables, ``torch.set_num_threads``).
Outputs: ``--out`` (default runs/bench-<dataset>)/{minitorch_cv,pytorch}/metrics.json.
The PyTorch side trains the padded U-Net of the recipes (the ones the README reports). Dropout draws differ between the two (each framework's own generator), so the
runs are the same recipe, not the same numbers to the bit.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
EXAMPLE = os.path.join(REPO, "examples", "train_segmentation.py")
COLUMNS = ("framework", "pixel acc", "mean acc", "mIoU", "fw IoU", "train+val s", "total s")


def load_example():
    spec = importlib.util.spec_from_file_location("train_segmentation", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def torch_available():
    return importlib.util.find_spec("torch") is not None


# ---------------------------------------------------------------- the PyTorch side
def torch_unet(torch, base_channels, in_channels, num_classes, padding, dropout, batch_norm):
    """PyTorch's twin of models.segmentation.UNet: the same modules under the same names
    (so its state_dict loads ours), the same forward."""
    nn, F = torch.nn, torch.nn.functional
    pad = 1 if padding else 0

    def double_conv(c_in, c_out):
        layers = []
        for channels in (c_in, c_out):
            layers.append(nn.Conv2d(channels, c_out, 3, padding=pad, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.ReLU())
        return nn.Sequential(*layers)

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            widths = [base_channels * 2**level for level in range(5)]
            self.encoders = nn.ModuleList(double_conv(a, b) for a, b in
                                          zip([in_channels] + widths[:3], widths[:4]))
            self.pool = nn.MaxPool2d(2)
            self.dropout = nn.Dropout(dropout)
            self.bottleneck = double_conv(widths[3], widths[4])
            self.upconvs = nn.ModuleList(nn.ConvTranspose2d(widths[l + 1], widths[l], 2, stride=2)
                                         for l in range(4))
            self.decoders = nn.ModuleList(double_conv(2 * widths[l], widths[l]) for l in range(4))
            self.classifier = nn.Conv2d(widths[0], num_classes, 1)

        def forward(self, x):
            skips = []
            for level, encoder in enumerate(self.encoders):
                x = encoder(x)
                if level == 3:
                    x = self.dropout(x)
                skips.append(x)
                x = self.pool(x)
            x = self.dropout(self.bottleneck(x))
            for level in reversed(range(4)):
                x = self.upconvs[level](x)
                skip = skips[level]
                if padding:
                    x = F.pad(x, (0, skip.shape[3] - x.shape[3], 0, skip.shape[2] - x.shape[2]))
                else:
                    top = (skip.shape[2] - x.shape[2]) // 2
                    left = (skip.shape[3] - x.shape[3]) // 2
                    skip = skip[:, :, top:top + x.shape[2], left:left + x.shape[3]]
                x = self.decoders[level](torch.cat([skip, x], dim=1))
            return self.classifier(x)

    return UNet()


def torch_loss(torch, logits, target, pixel_weight, class_weight, ignore_index):
    """models.segmentation.segmentation_loss in PyTorch (its docstring has the formula)."""
    F = torch.nn.functional
    if pixel_weight is None:
        return F.cross_entropy(logits, target, weight=class_weight, ignore_index=ignore_index)
    loss = F.cross_entropy(logits, target, weight=class_weight, ignore_index=ignore_index,
                           reduction="none") * pixel_weight
    weight = (target != ignore_index).to(logits.dtype) * pixel_weight
    if class_weight is not None:
        weight = weight * class_weight[target.clamp(0, class_weight.numel() - 1)]
    return loss.sum() / weight.sum()


def run_torch(argv, out, threads):
    """Train the example's recipe (``argv``) in PyTorch; writes out/metrics.json."""
    import torch

    from minitorch_cv.metrics import ConfusionMatrix
    from minitorch_cv.utils import write_json_atomic

    if threads:
        torch.set_num_threads(threads)
    example = load_example()
    args = example.build_parser().parse_args(argv)
    example.apply_recipe(args, vars(example.build_parser(suppress_defaults=True).parse_args(argv)))
    options = example.model_options(args)
    if args.arch != "unet" or not options.get("padding", False):
        raise SystemExit("bench_segmentation.py: the PyTorch side trains the padded U-Net of the "
                         f"recipes, not --arch {args.arch} with {options}")
    train_set, val_set, (train_loader, val_loader), class_weights = example.build_data(args)
    ours = example.build_training(args, example.input_channels(args, train_set),
                                  train_set.num_classes, len(train_loader))[0]
    model = torch_unet(torch, options.get("base_channels", 64), train_set.images.shape[1],
                       train_set.num_classes, options.get("padding", False),
                       options.get("dropout", 0.5), options.get("batch_norm", False))
    model.load_state_dict({key: torch.from_numpy(value.numpy().copy())
                           for key, value in ours.state_dict().items()})
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    total_steps = args.epochs * len(train_loader)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    class_weight = None if class_weights is None else torch.tensor(class_weights,
                                                                   dtype=torch.float32)
    ignore_index = -100 if train_set.ignore_index is None else train_set.ignore_index
    records = []

    def tensors(batch):
        return [torch.from_numpy(np.ascontiguousarray(field.numpy())) for field in batch]

    for epoch in range(args.epochs):
        started = time.perf_counter()
        model.train()
        loss_sum, count = 0.0, 0
        for batch in train_loader:
            images, target, *pixel_weight = tensors(batch)
            loss = torch_loss(torch, model(images), target, pixel_weight[0] if pixel_weight
                              else None, class_weight, ignore_index)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += loss.item() * images.shape[0]
            count += images.shape[0]
        trained = time.perf_counter()
        model.eval()
        confusion = ConfusionMatrix(val_set.num_classes, val_set.ignore_index)
        val_loss, val_count = 0.0, 0
        with torch.no_grad():
            for batch in val_loader:
                images, target = tensors(batch)[:2]
                logits = model(images)
                val_loss += torch_loss(torch, logits, target, None, class_weight,
                                       ignore_index).item() * images.shape[0]
                val_count += images.shape[0]
                confusion.update(logits.argmax(1).numpy(), target.numpy())
        figures = confusion.compute()
        records.append({
            "epoch": epoch + 1, "train_loss": loss_sum / count, "val_loss": val_loss / val_count,
            "val_acc": figures["pixel_accuracy"], "val_mean_acc": figures["mean_accuracy"],
            "val_miou": figures["mean_iou"], "val_fw_iou": figures["fw_iou"],
            "val_iou": figures["iou"], "seconds": time.perf_counter() - started,
            "images_per_second": count / (trained - started),
            "lr": optimizer.param_groups[0]["lr"],
        })
        write_json_atomic(os.path.join(out, "metrics.json"), records)
        print(f"pytorch epoch {epoch + 1}/{args.epochs}  train loss {records[-1]['train_loss']:.4f}"
              f"  val pixel acc {figures['pixel_accuracy'] * 100:.2f}% mIoU "
              f"{figures['mean_iou'] * 100:.2f}%  {records[-1]['seconds']:.1f} s", flush=True)


# ------------------------------------------------------------------------ the table
def row(name, out, total_seconds):
    with open(os.path.join(out, "metrics.json")) as handle:
        records = json.load(handle)
    last = records[-1]
    seconds = sum(record["seconds"] for record in records)
    return [name] + [f"{last[key] * 100:.2f}%" for key in
                     ("val_acc", "val_mean_acc", "val_miou", "val_fw_iou")] + \
        [f"{seconds:.0f}", f"{total_seconds:.0f}"]


def print_table(rows):
    widths = [max(len(str(r[i])) for r in rows + [list(COLUMNS)]) for i in range(len(COLUMNS))]
    for line in [list(COLUMNS)] + rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="isbi2012", choices=("isbi2012", "camvid"))
    parser.add_argument("--out", default=None, help="output folder (default runs/bench-<dataset>)")
    parser.add_argument("--threads", type=int, default=None, help="cores for both frameworks")
    parser.add_argument("--torch-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-torch", action="store_true", help="run ours only")
    known, rest = parser.parse_known_args()
    out = known.out or os.path.join("runs", f"bench-{known.dataset}")
    argv = ["--dataset", known.dataset] + rest
    if known.torch_only:  # the child process of the PyTorch run
        os.makedirs(out, exist_ok=True)
        run_torch(argv, out, known.threads)
        return 0
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, os.environ.get("PYTHONPATH")) if p)
    if known.threads:
        for name in ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
            environment[name] = str(known.threads)
    # --overwrite: the benchmark's own folder, each benchmark run replaces the last one's
    runs = [("minitorch_cv", [sys.executable, EXAMPLE, "--overwrite"] + argv + ["--out"])]
    if known.skip_torch:
        pass
    elif torch_available():
        runs.append(("pytorch", [sys.executable, os.path.abspath(__file__), "--torch-only",
                                 "--dataset", known.dataset] + rest + ["--out"]))
    else:
        print("PyTorch is not installed: only minitorch_cv runs (see the docstring)", flush=True)
    rows = []
    for name, command in runs:
        folder = os.path.join(out, name)
        print(f"--- {name}: {' '.join(command[1:])} {folder}", flush=True)
        started = time.perf_counter()
        result = subprocess.run(command + [folder], env=environment)
        if result.returncode != 0:
            print(f"{name} run failed with status {result.returncode}", flush=True)
            return result.returncode
        rows.append(row(name, folder, time.perf_counter() - started))
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
