"""Every model that minitorch_cv and torchvision both name: the same network?

    python benchmarks/check_torchvision.py                 # every common name
    python benchmarks/check_torchvision.py --names resnet50 vgg16_bn
    python benchmarks/check_torchvision.py --list          # the names it would check

Needs PyTorch and torchvision's model code; make a virtual environment that has them
with ``bash ../shared/tools/torch-reference-env.sh /path/to/venv`` (it installs this
checkout into it) and run the script with that venv's python.

For every name in both ``minitorch_cv.models.list_models()`` and
``torchvision.models.list_models()`` (which includes the segmentation models), and for
each configuration of the small table CONFIGS below (default: the builder's defaults at
a 64x64 input), it

1. builds both models (torchvision's with ``weights=None``, and ``weights_backbone=None``
   where the builder has that argument, so nothing is downloaded);
2. checks that the state_dict keys are identical, in the same order;
3. gives torchvision's BatchNorm layers random affine parameters and running statistics
   (freshly initialized, an eval-mode BatchNorm would be the identity and prove nothing),
   and every other parameter that starts constant (zero biases, LayerNorm weights, the
   Vision Transformer's class token and zero classifier head, which would make every
   logit 0) a random perturbation; converts both models to float64 and copies
   torchvision's state_dict into ours with ``load_state_dict(strict=True)``;
4. runs both in eval mode on the same random batch (of 2) and prints the largest absolute
   difference of the outputs relative to the largest absolute output (for a dict or a
   named tuple, the worst over its keys; the keys must be the same in both);
5. sets every dropout and stochastic-depth probability to 0 (their random draws cannot
   be shared between the frameworks), runs both in training mode on the same batch and
   prints the same difference for the outputs (GoogLeNet's and Inception's auxiliary
   logits included) and for the BatchNorm running statistics that the step updated.

A row passes when the keys match and both differences are below 1e-9; the exit status
is 1 when any row fails. Nothing here is timed.
"""
import argparse
import inspect
import sys

import numpy as np

import minitorch_cv as mt
from minitorch_cv import models, nn

TOLERANCE = 1e-9
DEFAULT = (64, 64)


class Config:
    """One row: a label, the input (H, W), constructor kwargs for both frameworks and the
    batch size (2; more where training-mode BatchNorm would see 1x1 maps: the statistics
    of two values cancel to a few digits and amplify rounding, not differences)."""

    def __init__(self, label="", size=DEFAULT, kwargs=None, batch=2):
        self.label, self.size, self.kwargs, self.batch = label, size, kwargs or {}, batch


# name -> its configurations; names not here run once with the defaults at 64x64. Only
# what a model needs goes here.
CONFIGS = {
    # torchvision warns unless init_weights is given
    "googlenet": [
        Config("", DEFAULT, {"init_weights": True}),
        Config("aux_logits=False", DEFAULT, {"init_weights": True, "aux_logits": False}),
        Config("transform_input=True", DEFAULT, {"init_weights": True, "transform_input": True}),
    ],
    # 75x75 is Inception v3's smallest input (1x1 maps at the end: batch 8); its auxiliary
    # head needs 17x17 maps in training: 299x299 inputs.
    "inception_v3": [
        Config("aux_logits=False", (75, 75), {"init_weights": True, "aux_logits": False}, 8),
        Config("aux_logits=True", (299, 299), {"init_weights": True, "aux_logits": True}),
        Config("transform_input=True", (75, 75),
               {"init_weights": True, "aux_logits": False, "transform_input": True}, 8),
    ],
    # 64x64 inputs: the Vision Transformers are built for that image size (a 4x4 or 2x2
    # grid of patches; the weights have their full size)
    "vit_b_16": [Config("image_size=64", DEFAULT, {"image_size": 64})],
    "vit_b_32": [Config("image_size=64", DEFAULT, {"image_size": 64})],
    "vit_l_16": [Config("image_size=64", DEFAULT, {"image_size": 64})],
    "mobilenet_v2": [
        Config(),
        Config("width_mult=0.5", DEFAULT, {"width_mult": 0.5}),
    ],
    "densenet121": [
        Config(),
        Config("memory_efficient", DEFAULT, {"memory_efficient": True}),
    ],
    # segmentation: the default (no auxiliary head) and aux_loss=True (the "aux" output)
    **{name: [Config(), Config("aux_loss=True", DEFAULT, {"aux_loss": True})]
       for name in ("fcn_resnet50", "fcn_resnet101", "deeplabv3_resnet50", "deeplabv3_resnet101")},
    "resnet50": [
        Config(),
        Config("dilation [F, T, T]", DEFAULT, {"replace_stride_with_dilation": [False, True, True]}),
    ],
    "resnet101": [
        Config(),
        Config("dilation [F, T, T]", DEFAULT, {"replace_stride_with_dilation": [False, True, True]}),
    ],
}


def common_names(torchvision):
    return sorted(set(models.list_models()) & set(torchvision.models.list_models()))


def build_torchvision(torchvision, name, kwargs):
    builder = torchvision.models.get_model_builder(name)
    extra = {"weights": None}
    if "weights_backbone" in inspect.signature(builder).parameters:
        extra["weights_backbone"] = None  # the default would download ImageNet weights
    return builder(**extra, **kwargs)


def randomize_batch_norms(torch, model, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                size = module.num_features
                if module.weight is not None:
                    module.weight.copy_(0.5 + torch.rand(size, generator=generator))
                    module.bias.copy_(0.1 * torch.randn(size, generator=generator))
                if module.running_mean is not None:
                    module.running_mean.copy_(0.1 * torch.randn(size, generator=generator))
                    module.running_var.copy_(0.5 + torch.rand(size, generator=generator))


def randomize_constant_parameters(torch, model, seed):
    """Add N(0, 0.1^2) noise to every parameter whose entries are all equal at
    initialization (zeros, ones): a zero head gives zero logits whatever the rest."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            flat = parameter.reshape(-1)
            if flat.numel() and bool((flat == flat[0]).all()):
                parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype))


def named_outputs(output, to_numpy):
    """{key: array} of a model output: a tensor, a (named) tuple or a dict of tensors."""
    if isinstance(output, dict):
        return {str(key): to_numpy(value) for key, value in output.items()}
    if isinstance(output, tuple):
        fields = getattr(output, "_fields", None) or [str(i) for i in range(len(output))]
        return {field: to_numpy(value) for field, value in zip(fields, output) if value is not None}
    return {"logits": to_numpy(output)}


def relative_difference(ours, theirs):
    """max |ours - theirs| / max |theirs| over every output key (inf if keys or shapes differ)."""
    if set(ours) != set(theirs):
        return float("inf"), f"output keys {sorted(ours)} vs {sorted(theirs)}"
    worst = 0.0
    for key, expected in theirs.items():
        if ours[key].shape != expected.shape:
            return float("inf"), f"{key}: shape {ours[key].shape} vs {expected.shape}"
        scale = np.abs(expected).max() or 1.0
        worst = max(worst, float(np.abs(ours[key] - expected).max() / scale))
    return worst, ""


def disable_dropout(torch, theirs, ours):
    """p = 0 in every dropout and stochastic-depth layer of both models."""
    from torchvision.ops import StochasticDepth

    for module in theirs.modules():
        if isinstance(module, (torch.nn.modules.dropout._DropoutNd, StochasticDepth)):
            module.p = 0.0
    for module in ours.modules():
        if isinstance(module, (nn.Dropout, nn.Dropout2d, nn.StochasticDepth)):
            module.p = 0.0


def buffers(model, to_numpy):
    return {f"buffer {name}": to_numpy(value) for name, value in model.state_dict().items()
            if "running" in name or "num_batches" in name}


def check(torch, torchvision, name, size, kwargs, batch=2, seed=0):
    """(parameters, keys verdict, eval difference, train difference, note) for one
    configuration."""
    torch.manual_seed(seed)
    theirs = build_torchvision(torchvision, name, kwargs)
    mt.manual_seed(seed)
    ours = models.get_model(name, **kwargs)
    parameters = sum(p.numel() for p in ours.parameters())
    their_keys = list(theirs.state_dict())
    our_keys = list(ours.state_dict())
    if our_keys != their_keys:
        only_ours = [k for k in our_keys if k not in their_keys][:3]
        only_theirs = [k for k in their_keys if k not in our_keys][:3]
        verdict = "order" if set(our_keys) == set(their_keys) else "DIFFER"
        note = f"ours only {only_ours}, theirs only {only_theirs}"
        return parameters, verdict, float("inf"), float("inf"), note
    randomize_batch_norms(torch, theirs, seed + 1)
    randomize_constant_parameters(torch, theirs, seed + 3)
    theirs = theirs.double()
    ours = ours.double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()}, strict=True)
    images = torch.randn(batch, 3, *size, generator=torch.Generator().manual_seed(seed + 2),
                         dtype=torch.float64)
    our_images = mt.tensor(images.numpy())

    def torch_numpy(t):
        return t.detach().numpy().astype(np.float64)

    def our_numpy(t):
        return t.detach().numpy().astype(np.float64)

    theirs.eval()
    ours.eval()
    with torch.no_grad():
        expected = named_outputs(theirs(images), torch_numpy)
    with mt.no_grad():
        actual = named_outputs(ours(our_images), our_numpy)
    eval_difference, note = relative_difference(actual, expected)

    disable_dropout(torch, theirs, ours)
    theirs.train()
    ours.train()
    with torch.no_grad():
        expected = named_outputs(theirs(images), torch_numpy)
    with mt.no_grad():
        actual = named_outputs(ours(our_images), our_numpy)
    expected.update(buffers(theirs, torch_numpy))
    actual.update(buffers(ours, our_numpy))
    train_difference, train_note = relative_difference(actual, expected)
    return parameters, "same", eval_difference, train_difference, note or train_note


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="+", metavar="NAME", help="check only these names")
    parser.add_argument("--list", action="store_true", help="print the common names and stop")
    parser.add_argument("--threads", type=int, default=None, help="threads for both frameworks")
    args = parser.parse_args(argv)
    try:
        import torch
        import torchvision.models  # noqa: F401
    except ImportError as error:
        print(f"check_torchvision.py needs PyTorch and torchvision ({error}); make a venv with "
              "bash ../shared/tools/torch-reference-env.sh VENV and run this script with its python",
              file=sys.stderr)
        return 2
    import torchvision

    names = common_names(torchvision)
    if args.list:
        print("\n".join(names))
        return 0
    if args.names:
        unknown = sorted(set(args.names) - set(names))
        if unknown:
            parser.error(f"--names: not a model of both frameworks: {', '.join(unknown)}")
        names = [name for name in names if name in args.names]
    if args.threads:
        torch.set_num_threads(args.threads)
        mt.set_num_threads(args.threads)

    header = (f"{'model':<42} {'input':>11} {'parameters':>13} {'keys':>6} {'eval diff':>10} "
              f"{'train diff':>10}  result")
    print(header)
    print("-" * len(header))
    failures = 0
    for name in names:
        for config in CONFIGS.get(name, [Config()]):
            title = f"{name} ({config.label})" if config.label else name
            size = config.size
            parameters, keys, eval_diff, train_diff, note = check(
                torch, torchvision, name, size, config.kwargs, config.batch)
            ok = keys == "same" and max(eval_diff, train_diff) < TOLERANCE
            failures += not ok
            shape = f"{config.batch}x{size[0]}x{size[1]}"
            print(f"{title:<42} {shape:>11} {parameters:>13,} {keys:>6} "
                  f"{eval_diff:>10.2e} {train_diff:>10.2e}  {'ok' if ok else 'FAIL ' + note}",
                  flush=True)
    print(f"{len(names)} names; {'all ok' if not failures else f'{failures} FAILED'} "
          f"(pass: identical state_dict keys and max |ours - torchvision| / max |torchvision| "
          f"< {TOLERANCE:g} in float64, in eval mode and in training mode without dropout)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
