"""The ops, layers and in-place rules added for PyTorch parity (issue #12): the same
results as PyTorch?

    python benchmarks/check_parity_ops.py            # every case
    python benchmarks/check_parity_ops.py --list     # the case names

Needs PyTorch; make a virtual environment that has it with
``bash ../shared/tools/torch-reference-env.sh /path/to/venv`` (it installs this checkout
into it) and run the script with that venv's python.

Each case runs one computation in both frameworks on the same float64 inputs and
compares the outputs and the gradients of every input that requires one (backward of
the sum of each output times a fixed random array). A row passes when the largest
absolute difference is below 1e-9 times the largest absolute value (plus 1e-12), and
the exit status is 1 when any row fails. A case that checks an error compares the
exception types and the first words of the messages. Nothing here is timed.

Known difference, not a failure of this script: for bicubic interpolation whose output
has the input's size (a scale_factor near 1), PyTorch's CPU backward copies the
gradient although its forward resamples (torch.autograd.gradcheck fails there);
minitorch_cv returns the adjoint of its forward, so that case compares forward only.
"""
import argparse
import sys

import numpy as np

import minitorch_cv as mt

TOLERANCE = 1e-9


def _both(values, requires_grad=True):
    """The same float64 values as a torch tensor and a minitorch_cv tensor."""
    import torch

    array = np.asarray(values)
    floating = array.dtype.kind == "f"
    return (
        torch.tensor(array, requires_grad=requires_grad and floating),
        mt.tensor(array, requires_grad=requires_grad and floating),
    )


def _random(*shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def _outputs(result):
    return result if isinstance(result, (tuple, list)) else (result,)


def _to_numpy(tensor):
    if hasattr(tensor, "detach"):
        tensor = tensor.detach()
    return np.asarray(tensor.numpy() if hasattr(tensor, "numpy") else tensor)


def _run(function, inputs, backward):
    """Outputs and the gradients of the inputs that require grad."""
    outputs = _outputs(function(*inputs))
    grads = []
    if backward:
        total = None
        for k, out in enumerate(outputs):
            if not getattr(out, "requires_grad", False):
                continue
            weights = _random(*out.shape, seed=100 + k)
            term = (out * _like(out, weights)).sum()
            total = term if total is None else total + term
        if total is not None:
            total.backward()
        grads = [x.grad for x in inputs if getattr(x, "requires_grad", False)]
    return [_to_numpy(o) for o in outputs], [None if g is None else _to_numpy(g) for g in grads]


def _like(tensor, values):
    """``values`` as a tensor of the framework that ``tensor`` belongs to."""
    if isinstance(tensor, mt.Tensor):
        return mt.tensor(values)
    import torch

    return torch.tensor(values)


def compare(torch_function, mt_function, arrays, backward=True, **flags):
    """Largest relative difference over outputs and input gradients."""
    pairs = [_both(a, **flags) for a in arrays]
    theirs = _run(torch_function, [p[0] for p in pairs], backward)
    ours = _run(mt_function, [p[1] for p in pairs], backward)
    worst = 0.0
    for their_list, our_list in zip(theirs, ours):
        if len(their_list) != len(our_list):
            return float("inf")
        for a, b in zip(their_list, our_list):
            if a is None or b is None:
                if (a is None) != (b is None):
                    return float("inf")
                continue
            if a.shape != b.shape:
                return float("inf")
            scale = max(float(np.abs(a).max()) if a.size else 0.0, 1.0)
            worst = max(worst, float(np.abs(a - b).max()) / scale if a.size else 0.0)
    return worst


def cases():
    import torch
    import torch.nn.functional as TF

    F = mt.nn.functional
    x4 = _random(2, 3, 5, 4)
    index = np.random.default_rng(1).integers(0, 4, (2, 3, 5, 2))
    grid = _random(2, 3, 4, 2, seed=2, low=-1.2, high=1.2)
    theta = _random(2, 2, 3, seed=3, low=-1, high=1)
    probabilities = _random(3, 4, seed=4, low=0.05, high=0.95)
    targets = _random(3, 4, seed=5, low=0.0, high=1.0)
    log_probabilities = np.log(_random(3, 4, seed=6, low=0.05, high=1.0))
    yield "gather", lambda a: a.gather(3, torch.tensor(index)), lambda a: a.gather(3, mt.tensor(index)), [x4]
    yield ("scatter_add", lambda a, s: a.scatter_add(3, torch.tensor(index), s),
           lambda a, s: a.scatter_add(3, mt.tensor(index), s), [x4, _random(2, 3, 5, 2, seed=7)])
    yield ("index_select", lambda a: a.index_select(2, torch.tensor([4, 0, 4])),
           lambda a: a.index_select(2, mt.tensor([4, 0, 4])), [x4])
    mask = _random(5, 4, seed=8) > 0
    yield ("masked_fill", lambda a: a.masked_fill(torch.tensor(mask), -1.5),
           lambda a: a.masked_fill(mt.tensor(mask), -1.5), [x4])
    distinct = np.random.default_rng(9).permutation(40).reshape(2, 4, 5) / 7.0
    yield "sort", lambda a: a.sort(1, descending=True), lambda a: a.sort(1, descending=True), [distinct]
    yield "topk", lambda a: a.topk(3, dim=-1), lambda a: a.topk(3, dim=-1), [distinct]
    yield "flip_roll", lambda a: a.flip(0, 2).roll((1, -2), (1, 3)), lambda a: a.flip(0, 2).roll((1, -2), (1, 3)), [x4]
    yield "repeat", lambda a: a.repeat(2, 1, 1, 3, 1), lambda a: a.repeat(2, 1, 1, 3, 1), [x4]
    yield ("repeat_interleave", lambda a: a.repeat_interleave(torch.tensor([1, 0, 3]), 1),
           lambda a: a.repeat_interleave(mt.tensor([1, 0, 3]), 1), [x4])
    yield "einsum", lambda a, b: torch.einsum("bchw,cd->bdhw", a, b), lambda a, b: mt.einsum("bchw,cd->bdhw", a, b), [x4, _random(3, 2, seed=10)]
    yield "einsum_trace", lambda a: torch.einsum("...ii->...", a), lambda a: mt.einsum("...ii->...", a), [_random(2, 3, 3)]
    yield "cumsum", lambda a: a.cumsum(2), lambda a: a.cumsum(2), [x4]
    yield "norm_p3", lambda a: a.norm(3, dim=(1, 2)), lambda a: a.norm(3, dim=(1, 2)), [x4]
    yield "normalize", lambda a: TF.normalize(a, dim=1), lambda a: F.normalize(a, dim=1), [x4]
    yield "unfold", lambda a: TF.unfold(a, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)), \
        lambda a: F.unfold(a, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)), [x4]
    yield "fold", lambda c: TF.fold(c, (5, 4), 2, padding=1), lambda c: F.fold(c, (5, 4), 2, padding=1), [_random(2, 12, 30, seed=11)]
    for align in (False, True):
        yield (f"affine_grid_{align}", lambda t, c=align: TF.affine_grid(t, (2, 3, 4, 6), align_corners=c),
               lambda t, c=align: F.affine_grid(t, (2, 3, 4, 6), align_corners=c), [theta])
        for padding_mode in ("zeros", "border"):
            yield (f"grid_sample_{padding_mode}_{align}",
                   lambda a, g, p=padding_mode, c=align: TF.grid_sample(a, g, padding_mode=p, align_corners=c),
                   lambda a, g, p=padding_mode, c=align: F.grid_sample(a, g, padding_mode=p, align_corners=c),
                   [x4, grid])
    for kwargs in ({"size": (7, 3)}, {"scale_factor": 2.0}, {"scale_factor": 0.6}):
        for align in (False, True):
            yield (f"bicubic_{kwargs}_{align}",
                   lambda a, k=kwargs, c=align: TF.interpolate(a, mode="bicubic", align_corners=c, **k),
                   lambda a, k=kwargs, c=align: F.interpolate(a, mode="bicubic", align_corners=c, **k), [x4])
    yield ("bicubic_same_size_forward_only", lambda a: TF.interpolate(a, scale_factor=1.1, mode="bicubic"),
           lambda a: F.interpolate(a, scale_factor=1.1, mode="bicubic", align_corners=False), [x4], False)
    yield ("binary_cross_entropy", lambda a, b: TF.binary_cross_entropy(a, b),
           lambda a, b: F.binary_cross_entropy(a, b), [probabilities, targets])
    yield "smooth_l1", lambda a, b: TF.smooth_l1_loss(a, b, beta=0.7), lambda a, b: F.smooth_l1_loss(a, b, beta=0.7), [x4, _random(2, 3, 5, 4, seed=12)]
    yield ("kl_div", lambda a, b: TF.kl_div(a, b, reduction="batchmean"),
           lambda a, b: F.kl_div(a, b, reduction="batchmean"), [log_probabilities, targets])
    yield ("kl_div_log_target", lambda a, b: TF.kl_div(a, b, reduction="sum", log_target=True),
           lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True), [log_probabilities, log_probabilities[::-1].copy()])
    codes = np.array([[0, 3, 3], [2, 0, 1]])
    yield ("embedding", lambda w: TF.embedding(torch.tensor(codes), w, padding_idx=3, scale_grad_by_freq=True),
           lambda w: F.embedding(mt.tensor(codes), w, padding_idx=3, scale_grad_by_freq=True), [_random(4, 5, seed=13)])
    yield "one_hot", lambda: TF.one_hot(torch.tensor(codes), 5), lambda: F.one_hot(mt.tensor(codes), 5), [], False
    yield ("conv1d", lambda a, w, b: TF.conv1d(a, w, b, stride=2, padding=2, dilation=2, groups=3),
           lambda a, w, b: F.conv1d(a, w, b, stride=2, padding=2, dilation=2, groups=3),
           [_random(2, 3, 9, seed=14), _random(6, 1, 3, seed=15), _random(6, seed=16)])
    yield ("instance_norm", lambda a, w, b: TF.instance_norm(a, weight=w, bias=b),
           lambda a, w, b: F.instance_norm(a, weight=w, bias=b), [x4, _random(3, seed=17), _random(3, seed=18)])
    yield "prelu", lambda a, w: TF.prelu(a, w), lambda a, w: F.prelu(a, w), [x4, _random(3, seed=19)]
    yield "pixel_shuffle", lambda a: TF.pixel_shuffle(a, 2), lambda a: F.pixel_shuffle(a, 2), [_random(1, 8, 3, 2)]

    def inplace_torch(a, b):
        y = a * 1.0
        y += b
        y *= b
        y /= 2 + b.abs()
        y[0, 1] = b[0, 0]
        return TF.relu(y, inplace=True), TF.silu(y * 1.0, inplace=True), TF.hardswish(y * 1.0, inplace=True)

    def inplace_mt(a, b):
        y = a * 1.0
        y += b
        y *= b
        y /= 2 + b.abs()
        y[0, 1] = b[0, 0]
        return F.relu(y, inplace=True), F.silu(y * 1.0, inplace=True), F.hardswish(y * 1.0, inplace=True)

    yield "inplace_chain", inplace_torch, inplace_mt, [_random(3, 4, seed=20), _random(3, 4, seed=21)]


def transformer_difference():
    """TransformerEncoder with PyTorch's weights: the same outputs (eval, float64)."""
    import torch

    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=True, batch_first=True),
        2, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False,
    ).double().eval()
    ours = mt.nn.TransformerEncoder(
        mt.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=True, batch_first=True),
        2, norm=mt.nn.LayerNorm(8),
    ).double().eval()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    src = _random(3, 5, 8)
    padding = np.zeros((3, 5), dtype=bool)
    padding[1, 3:] = True
    a = theirs(torch.tensor(src), src_key_padding_mask=torch.tensor(padding)).detach().numpy()
    b = ours(mt.tensor(src), src_key_padding_mask=mt.tensor(padding)).detach().numpy()
    return float(np.abs(a - b).max()) / max(float(np.abs(a).max()), 1.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--list", action="store_true", help="print the case names and stop")
    arguments = parser.parse_args(argv)
    rows = list(cases())
    if arguments.list:
        print("\n".join([row[0] for row in rows] + ["transformer_encoder"]))
        return 0
    failed = 0
    print(f"{'case':44} {'max relative difference':>24}  result")
    for row in rows:
        name, theirs, ours, arrays = row[:4]
        backward = row[4] if len(row) > 4 else True
        difference = compare(theirs, ours, arrays, backward)
        ok = difference < TOLERANCE
        failed += not ok
        print(f"{name:44} {difference:24.3e}  {'ok' if ok else 'FAILED'}")
    difference = transformer_difference()
    ok = difference < TOLERANCE
    failed += not ok
    print(f"{'transformer_encoder':44} {difference:24.3e}  {'ok' if ok else 'FAILED'}")
    print(f"{len(rows) + 1 - failed} of {len(rows) + 1} cases agree with PyTorch")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
