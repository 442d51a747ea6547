"""Check deform_conv2d against PyTorch: values and all five gradients, every implementation.

    python benchmarks/check_deform_conv_torch.py [--cases 20] [--seed 0]

Run it in the PyTorch reference venv (``../shared/tools/torch-reference-env.sh``); the
framework and its tests never import torch. Two PyTorch-side references:

- ``torchvision.ops.deform_conv2d``, the specification, when its compiled operators load
  (the torchvision wheel on PyPI is a CUDA build: with PyTorch's CPU build its C++ ops
  cannot load, and the script says so and goes on);
- always, the same operation written with PyTorch's own bilinear sampler: for every tap
  (kh, kw) and offset group, ``F.grid_sample(..., mode="bilinear", padding_mode="zeros",
  align_corners=False)`` at the grid position moved by the offset (a corner outside the
  image counts 0, torchvision's rule), times the mask, then the weight as a sum over
  channels and taps; its five gradients come from PyTorch's autograd.

It also builds torchvision's resnet50, adds to the conv2 of every bottleneck of layer2-4 an
offset predictor ``conv_offset = Conv2d(width, 27, 3, stride, padding 1)`` (DCNv2, as
mmcv names it), and checks that models.deform_resnet50 has the same state_dict keys,
shapes and parameter count.

For each drawn geometry (non-square kernels, strides, paddings, dilations, weight and
offset groups, batch 1, offsets off the integer grid and far outside the image) it runs
minitorch_cv with the "reference", "cpu" and "cuda" (emulated) kernels, and on the GPU
when CuPy sees one, in float64, and prints the largest difference of y and of the
gradients of input, offset, weight, bias and mask. It exits with status 1 if any is above
1e-9 (relative to the largest value of the quantity).
"""
import argparse
import sys

import numpy as np

import minitorch_cv as mt
from minitorch_cv import backend
from minitorch_cv.ops import deform_conv2d

TOLERANCE = 1e-9
QUANTITIES = ("y", "input", "offset", "weight", "bias", "mask")


def draw_case(rng):
    """A random geometry with a non-empty output, and its arrays (float64)."""
    while True:
        KH, KW = rng.integers(1, 4, 2)
        SH, SW = rng.integers(1, 3, 2)
        PH, PW = rng.integers(0, 3, 2)
        DH, DW = rng.integers(1, 3, 2)
        H, W = rng.integers(3, 9, 2)
        OH = (H + 2 * PH - DH * (KH - 1) - 1) // SH + 1
        OW = (W + 2 * PW - DW * (KW - 1) - 1) // SW + 1
        if OH >= 1 and OW >= 1:
            break
    G, OG = rng.choice([1, 2]), rng.choice([1, 2, 4])
    N, C, K = rng.integers(1, 3), 4, 2 * G
    reach = rng.choice([2, 2 * max(H, W)])  # near the grid, or pushed far outside
    shape = (N, 2 * OG * KH * KW, OH, OW)
    geometry = dict(stride=(int(SH), int(SW)), padding=(int(PH), int(PW)), dilation=(int(DH), int(DW)))
    arrays = dict(
        input=rng.standard_normal((N, C, H, W)),
        offset=rng.integers(-reach, reach + 1, shape) + rng.uniform(0.1, 0.9, shape),
        weight=rng.standard_normal((K, C // G, KH, KW)),
        bias=rng.standard_normal(K),
        mask=rng.uniform(0, 1, (N, OG * KH * KW, OH, OW)),
    )
    return geometry, arrays


def minitorch_results(geometry, arrays, grad_y, implementation):
    device = "gpu" if implementation == "gpu" else "cpu"
    tensors = {k: mt.tensor(v, device=device, requires_grad=True) for k, v in arrays.items()}
    with backend.use_cpu_kernels("cpu" if device == "gpu" else implementation):
        y = deform_conv2d(tensors["input"], tensors["offset"], tensors["weight"], tensors["bias"],
                          mask=tensors["mask"], **geometry)
        y.backward(mt.tensor(grad_y, device=device))
    return [y.detach().numpy()] + [tensors[k].grad.numpy() for k in QUANTITIES[1:]]


def grid_sample_deform_conv2d(torch, x, offset, weight, bias, mask, stride, padding, dilation):
    """deform_conv2d built from F.grid_sample (see the module docstring)."""
    F = torch.nn.functional
    N, C, H, W = x.shape
    K, Cg, KH, KW = weight.shape
    _, _, OH, OW = offset.shape
    OG = offset.shape[1] // (2 * KH * KW)
    grid_h = (torch.arange(OH, dtype=x.dtype) * stride[0] - padding[0]).reshape(1, OH, 1)
    grid_w = (torch.arange(OW, dtype=x.dtype) * stride[1] - padding[1]).reshape(1, 1, OW)
    per_tap = offset.reshape(N, OG, KH, KW, 2, OH, OW)
    masks = mask.reshape(N, OG, KH, KW, OH, OW)
    samples = []  # per offset group: (N, C/OG, KH, KW, OH, OW)
    for g, x_group in enumerate(x.chunk(OG, dim=1)):
        taps = []
        for kh in range(KH):
            for kw in range(KW):
                ph = grid_h + kh * dilation[0] + per_tap[:, g, kh, kw, 0]
                pw = grid_w + kw * dilation[1] + per_tap[:, g, kh, kw, 1]
                # align_corners=False: pixel p sits at the normalized coordinate (2p + 1)/size - 1
                grid = torch.stack(((2 * pw + 1) / W - 1, (2 * ph + 1) / H - 1), dim=-1)
                sampled = F.grid_sample(x_group, grid, mode="bilinear", padding_mode="zeros",
                                        align_corners=False)
                taps.append(sampled * masks[:, g, kh, kw].unsqueeze(1))
        samples.append(torch.stack(taps, dim=2).reshape(N, C // OG, KH, KW, OH, OW))
    columns = torch.cat(samples, dim=1)  # (N, C, KH, KW, OH, OW)
    G = C // Cg
    outputs = [
        torch.einsum("kcij,ncijhw->nkhw", w_group, c_group)
        for w_group, c_group in zip(weight.chunk(G, dim=0), columns.chunk(G, dim=1))
    ]
    return torch.cat(outputs, dim=1) + bias.reshape(1, K, 1, 1)


def torch_results(torch, function, geometry, arrays, grad_y):
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items()}
    y = function(tensors["input"], tensors["offset"], tensors["weight"], tensors["bias"],
                 mask=tensors["mask"], **geometry)
    y.backward(torch.tensor(grad_y))
    return [y.detach().numpy()] + [tensors[k].grad.numpy() for k in QUANTITIES[1:]]


def torchvision_function(torch):
    """torchvision.ops.deform_conv2d if its compiled operators load, else (None, why)."""
    try:
        from torchvision.ops import deform_conv2d as tv_deform_conv2d

        x = torch.zeros(1, 1, 3, 3)
        tv_deform_conv2d(x, torch.zeros(1, 2, 3, 3), torch.zeros(1, 1, 1, 1))
        return tv_deform_conv2d, None
    except Exception as error:  # ImportError, or RuntimeError: ops not loaded
        first_sentence = str(error).split(". ")[0]
        return None, f"{type(error).__name__}: {first_sentence}"


def check_deform_resnet50(torch):
    """deform_resnet50's keys, shapes and parameter count against torchvision's resnet50
    with DCNv2's offset predictors added; True when they agree."""
    import torchvision

    from minitorch_cv import models

    reference = torchvision.models.resnet50()
    for stage in (reference.layer2, reference.layer3, reference.layer4):
        for block in stage:
            conv2 = block.conv2
            conv2.conv_offset = torch.nn.Conv2d(conv2.in_channels, 27, 3, conv2.stride, 1)
    expected = {key: tuple(value.shape) for key, value in reference.state_dict().items()}
    ours = {key: tuple(value.shape) for key, value in models.deform_resnet50().state_dict().items()}
    count = sum(p.numel() for p in reference.parameters())
    same = list(ours.items()) == list(expected.items())
    print(f"deform_resnet50: {len(ours)} state_dict entries, {count:,} parameters in torchvision's "
          f"resnet50 with offset predictors; keys and shapes {'agree' if same else 'DIFFER'}")
    return same


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("check_deform_conv_torch: needs PyTorch (run it in the reference venv)")

    references = {
        "grid_sample": lambda *a, **k: grid_sample_deform_conv2d(torch, *a, **k),
    }
    tv_function, why = torchvision_function(torch)
    if tv_function is None:
        print(f"torchvision.ops.deform_conv2d unavailable here ({why}); checking against the "
              "grid_sample formulation only")
    else:
        references["torchvision"] = lambda x, o, w, b, mask, **k: tv_function(x, o, w, b, mask=mask, **k)
    implementations = ["reference", "cpu", "cuda"] + (["gpu"] if mt.cuda.is_available() else [])

    rng = np.random.default_rng(args.seed)
    header = f"{'case':>4} {'vs':<12} {'impl':<10} " + " ".join(f"{q:>9}" for q in QUANTITIES)
    print(header)
    print("-" * len(header))
    worst = 0.0
    for case in range(args.cases):
        geometry, arrays = draw_case(rng)
        N, K = arrays["input"].shape[0], arrays["weight"].shape[0]
        OH, OW = arrays["offset"].shape[2:]
        grad_y = rng.standard_normal((N, K, OH, OW))
        for name, function in references.items():
            expected = torch_results(torch, function, geometry, arrays, grad_y)
            for implementation in implementations:
                actual = minitorch_results(geometry, arrays, grad_y, implementation)
                errors = [np.abs(a - e).max() / max(1.0, np.abs(e).max()) for a, e in zip(actual, expected)]
                worst = max(worst, *errors)
                print(f"{case:>4} {name:<12} {implementation:<10} " + " ".join(f"{e:9.1e}" for e in errors))
    print(f"largest relative difference: {worst:.1e} (tolerance {TOLERANCE:.0e})")
    if not check_deform_resnet50(torch) or worst > TOLERANCE:
        sys.exit(1)


if __name__ == "__main__":
    main()
