"""The README's training recipes, in minitorch_cv and in PyTorch: test accuracy and time.

    python benchmarks/bench_classifier_recipes.py --data-dir ../shared/data \\
        [--recipes vgg11_bn mobilenet_v2 ...] [--torch-python VENV/bin/python]

For each recipe, ours is examples/train_classifier.py run exactly as the README shows
(a subprocess; its metrics.json gives the accuracies, the wall clock the time). Then
the same model in PyTorch (torchvision's; the CIFAR DenseNet-BC rebuilt from
torchvision's parts with its 3x3 stem; the paper's LeNet-5 written out below with the
same state_dict keys), the same recipe runs in PyTorch in a separate
process (``--torch-python``, default this interpreter when it imports torch): the same
initial weights (ours, saved and loaded into the torch model), the same batches (our
DataLoader with the same seed and transforms, converted with torch.from_numpy), the
same loss (auxiliary heads included), optimizer, schedule and epochs. One table:
recipe, best and final test accuracy, minutes, for both.

``--train-subset``/``--test-subset``/``--epochs`` shorten every recipe (the smoke test);
figures from a loaded machine are not timings to publish.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CIFAR = "cifar-10-subset-python.tar.gz"
# name: (train_classifier.py options after --arch/--dataset, data set)
RECIPES = {
    "lenet5": (["--arch", "lenet5", "--epochs", "4", "--batch-size", "64", "--lr", "0.005"], "mnist"),
    "vgg11_bn": (["--arch", "vgg11_bn", "--epochs", "3", "--batch-size", "64", "--lr", "0.02"], "cifar10"),
    "googlenet": (["--arch", "googlenet", "--epochs", "15", "--batch-size", "64", "--lr", "0.05"], "cifar10"),
    "mobilenet_v2": (["--arch", "mobilenet_v2", "--epochs", "6", "--batch-size", "64", "--lr", "0.05"],
                     "cifar10"),
    "densenet_bc_100_k12": (["--arch", "densenet_bc_100_k12", "--epochs", "2", "--batch-size", "64",
                             "--lr", "0.1"], "cifar10"),
    "vit_ti_16_cifar": (["--arch", "vit_ti_16", "--patch-size", "8", "--optimizer", "adamw",
                         "--lr", "1e-3", "--weight-decay", "0.05", "--schedule", "cosine",
                         "--epochs", "10", "--batch-size", "64"], "cifar10"),
}


def classifier_script():
    path = os.path.join(REPO, "examples", "train_classifier.py")
    spec = importlib.util.spec_from_file_location("train_classifier", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recipe_arguments(name, data_dir, shorten):
    options, dataset = RECIPES[name]
    source = os.path.join(data_dir, CIFAR) if dataset == "cifar10" else data_dir
    return options + ["--dataset", dataset, "--data-dir", source] + shorten


# ------------------------------------------------------------------------ ours
def run_ours(name, data_dir, shorten, workdir):
    out = os.path.join(workdir, f"ours-{name}")
    command = [sys.executable, os.path.join(REPO, "examples", "train_classifier.py"),
               *recipe_arguments(name, data_dir, shorten), "--out", out, "--overwrite"]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr else "failed"}
    with open(os.path.join(out, "metrics.json")) as file:
        records = json.load(file)
    return summarize(records, seconds)


def summarize(records, seconds):
    return {"best": max(r["test_acc"] for r in records), "final": records[-1]["test_acc"],
            "minutes": seconds / 60}


# ---------------------------------------------------------------------- PyTorch
def torch_lenet5(torch):
    """The paper's LeNet-5 in PyTorch, with minitorch_cv's lenet5 state_dict keys and
    the same layers (models/lenet.py): scaled tanh, trainable 2x2 sum subsampling, C3's
    connection table as grouped convolutions, fixed RBF output codes (scores = -y)."""
    from minitorch_cv.models.lenet import C3_TABLE, digit_codes

    nn, F = torch.nn, torch.nn.functional

    class Subsampling(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(channels))
            self.bias = nn.Parameter(torch.empty(channels))

        def forward(self, x):
            summed = F.avg_pool2d(x, 2, divisor_override=1)
            return summed * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    class TableConv(nn.Module):
        def __init__(self):
            super().__init__()
            self.sizes = sorted({len(t) for t in C3_TABLE})
            order = []
            for size in self.sizes:
                maps = [k for k, t in enumerate(C3_TABLE) if len(t) == size]
                order += maps
                setattr(self, f"weight{size}", nn.Parameter(torch.empty(len(maps), size, 5, 5)))
            self.position = [order.index(k) for k in range(len(C3_TABLE))]
            self.bias = nn.Parameter(torch.empty(len(C3_TABLE)))

        def forward(self, x):
            outputs = []
            for size in self.sizes:
                maps = [t for t in C3_TABLE if len(t) == size]
                gathered = x[:, [c for t in maps for c in t]]
                outputs.append(F.conv2d(gathered, getattr(self, f"weight{size}"), groups=len(maps)))
            return torch.cat(outputs, 1)[:, self.position] + self.bias.view(1, -1, 1, 1)

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.s2, self.c3 = nn.Conv2d(1, 6, 5), Subsampling(6), TableConv()
            self.s4, self.c5, self.f6 = Subsampling(16), nn.Conv2d(16, 120, 5), nn.Linear(120, 84)
            self.output = nn.Module()
            self.output.register_buffer("codes", torch.tensor(digit_codes()))

        def forward(self, x):
            def f(a):
                return 1.7159 * torch.tanh(a * (2.0 / 3.0))
            x = f(self.s2(f(self.c1(x))))
            x = f(self.s4(f(self.c3(x))))
            x = f(self.f6(f(self.c5(x)).flatten(1)))
            difference = x.unsqueeze(1) - self.output.codes.unsqueeze(0)
            return -(difference * difference).sum(2)

    return LeNet5()


def torch_twin(torch, torchvision, arch, args):
    """The torch model with our model's state_dict keys, or None without a twin."""
    nn = torch.nn
    if arch == "lenet5":
        return torch_lenet5(torch)
    if arch in ("vgg11_bn", "mobilenet_v2"):
        return torchvision.models.get_model(arch, num_classes=10)
    if arch == "googlenet":
        return torchvision.models.googlenet(num_classes=10, aux_logits=True, init_weights=True)
    if arch == "vit_ti_16":
        return torchvision.models.VisionTransformer(
            image_size=32, patch_size=args.patch_size, num_layers=12, num_heads=3,
            hidden_dim=192, mlp_dim=768, num_classes=10)
    if arch == "densenet_bc_100_k12":
        model = torchvision.models.DenseNet(12, (16, 16, 16), 24, 4, num_classes=10)
        parts = [("conv0", nn.Conv2d(3, 24, 3, 1, 1, bias=False))]
        parts += [(n, m) for n, m in model.features.named_children()
                  if n not in ("conv0", "norm0", "relu0", "pool0", "norm5")]
        parts.append(("norm4", model.features.norm5))
        from collections import OrderedDict

        model.features = nn.Sequential(OrderedDict(parts))
        return model
    return None


def torch_worker(name, data_dir, shorten, initial_state_path, result_path):
    """Run recipe ``name`` in PyTorch (this process imports torch); write its summary."""
    import numpy as np
    import torch
    import torchvision

    import minitorch_cv as mt
    from minitorch_cv import data

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    script = classifier_script()
    args = script.build_parser().parse_args(recipe_arguments(name, data_dir, shorten))
    args.aux_weight = script.AUX_WEIGHTS.get(args.arch, 0.0) if args.aux_weight is None else args.aux_weight
    model = torch_twin(torch, torchvision, args.arch, args)
    state = mt.load(initial_state_path)
    model.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in state.items()})
    train_set, test_set = script.load_data(args)
    _, channels = script.build_model(args)  # the channels our run feeds its model
    train_transform, test_transform = script.build_transforms(args, channels)
    train_loader = data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                   generator=args.seed, transform=train_transform)
    test_loader = data.DataLoader(test_set, batch_size=2 * args.batch_size, transform=test_transform)
    if args.optimizer == "adamw":
        optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                                    nesterov=args.nesterov, weight_decay=args.weight_decay)
    total = args.epochs * len(train_loader)
    schedulers = torch.optim.lr_scheduler
    if args.schedule == "onecycle":
        scheduler = schedulers.OneCycleLR(optimizer, max_lr=args.lr, total_steps=total)
    elif args.schedule == "cosine":
        scheduler = schedulers.CosineAnnealingLR(optimizer, T_max=total)
    else:
        scheduler = schedulers.MultiStepLR(optimizer, [int(total * 0.5), int(total * 0.75)], 0.1)
    ce = torch.nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)

    def loss_of(output, labels):
        if isinstance(output, tuple):
            return ce(output[0], labels) + sum(args.aux_weight * ce(aux, labels)
                                               for aux in output[1:] if aux is not None)
        return ce(output, labels)

    def tensors(images, labels):
        return torch.from_numpy(np.asarray(images.numpy())), torch.from_numpy(np.asarray(labels.numpy()))

    records, started = [], time.perf_counter()
    for epoch in range(args.epochs):
        train_loader.set_epoch(epoch)
        model.train()
        for images, labels in train_loader:
            images, labels = tensors(images, labels)
            loss = loss_of(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        model.eval()
        correct = count = 0
        with torch.no_grad():
            for images, labels in test_loader:
                images, labels = tensors(images, labels)
                correct += (model(images).argmax(1) == labels).sum().item()
                count += labels.shape[0]
        records.append({"epoch": epoch + 1, "test_acc": correct / count})
    with open(result_path, "w") as file:
        json.dump(summarize(records, time.perf_counter() - started), file)


def run_torch(name, data_dir, shorten, workdir, python):
    script = classifier_script()
    args = script.build_parser().parse_args(recipe_arguments(name, data_dir, shorten))
    import minitorch_cv as mt

    mt.manual_seed(args.seed)
    model, _ = script.build_model(args)  # the initial weights of our run (same seed)
    initial = os.path.join(workdir, f"initial-{name}.safetensors")
    mt.save(model.state_dict(), initial)
    result_path = os.path.join(workdir, f"torch-{name}.json")
    command = [python, os.path.abspath(__file__), "--torch-worker", name, "--data-dir", data_dir,
               "--initial", initial, "--result", result_path, "--", *shorten]
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (REPO, os.environ.get("PYTHONPATH")) if p))
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        return {"error": (result.stderr.strip().splitlines() or ["failed"])[-1]}
    with open(result_path) as file:
        return json.load(file)


def torch_python(explicit):
    if explicit:
        return explicit
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError:
        return None
    return sys.executable


def cell(result, key, scale=100, digits=1):
    if result is None:
        return "-"
    if "error" in result:
        return "error"
    return f"{result[key] * scale:.{digits}f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MINITORCH_CV_DATA", "../shared/data"))
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--torch-python", default=None, help="a Python with torch and torchvision")
    parser.add_argument("--train-subset", default=None)
    parser.add_argument("--test-subset", default=None)
    parser.add_argument("--epochs", default=None)
    parser.add_argument("--torch-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--initial", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--result", default=None, help=argparse.SUPPRESS)
    parser.add_argument("shorten", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.torch_worker:
        torch_worker(args.torch_worker, args.data_dir, args.shorten, args.initial, args.result)
        return
    shorten = []
    for option in ("train_subset", "test_subset", "epochs"):
        if getattr(args, option) is not None:
            shorten += [f"--{option.replace('_', '-')}", str(getattr(args, option))]

    from minitorch_cv import models

    python = torch_python(args.torch_python)
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.recipes:
            arch = RECIPES[name][0][1]
            if arch not in models.list_models():
                rows.append((name, "not in this checkout's zoo", None, None))
                continue
            ours = run_ours(name, args.data_dir, shorten, workdir)
            theirs = None
            twin = arch in ("lenet5", "vgg11_bn", "googlenet", "mobilenet_v2", "vit_ti_16",
                            "densenet_bc_100_k12")
            if python is not None and twin and "error" not in ours:
                theirs = run_torch(name, args.data_dir, shorten, workdir, python)
            note = "" if twin else "no torchvision twin"
            if python is None:
                note = "PyTorch not found"
            rows.append((name, note, ours, theirs))
            print(f"done: {name}", file=sys.stderr, flush=True)
    header = (f"{'recipe':22s} {'ours best %':>11s} {'final %':>8s} {'min':>6s}   "
              f"{'torch best %':>12s} {'final %':>8s} {'min':>6s}  note")
    print(header)
    for name, note, ours, theirs in rows:
        if "error" in (ours or {}):
            note = f"ours failed: {ours['error']}"
        elif "error" in (theirs or {}):
            note = f"torch failed: {theirs['error']}"
        print(f"{name:22s} {cell(ours, 'best'):>11s} {cell(ours, 'final'):>8s} "
              f"{cell(ours, 'minutes', 1):>6s}   {cell(theirs, 'best'):>12s} "
              f"{cell(theirs, 'final'):>8s} {cell(theirs, 'minutes', 1):>6s}  {note}")


if __name__ == "__main__":
    main()
