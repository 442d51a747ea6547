"""Memory of a DenseNet-121 training step (forward + backward), plain and with
``memory_efficient=True`` (the bottlenecks under gradient checkpointing).

    python benchmarks/bench_densenet_memory.py [--batch-size 32] [--image-size 64]

Batch 32 of 64x64 images, float32, training mode. tracemalloc sees every NumPy
allocation (the Numba kernels allocate nothing themselves); the model's parameters are
made before tracing starts, so the figures are what the step adds:

    kept after forward  what the graph holds for the backward pass (the activations)
    peak                the most that was alive at once during forward + backward
                        (parameter gradients and the backward's temporaries included)

The "concatenations" column is the size of the per-layer concatenated inputs that the
plain path keeps (sum over the dense layers of N x (C0 + l*k) x H x W floats): the
quadratic part that memory_efficient rebuilds during backward instead of keeping.
"""
import argparse
import tracemalloc

import minitorch_cv as mt
from minitorch_cv import models, nn

MiB = 2**20


def concatenation_bytes(model, batch_size, image_size):
    """Bytes of all the dense layers' concatenated inputs at this batch and image size."""
    total = 0
    size = image_size // 4  # conv0 and pool0 halve it twice
    for name, module in model.features.named_children():
        if name.startswith("denseblock"):
            for layer in module.values():
                total += batch_size * layer.norm1.num_features * size * size * 4
        elif name.startswith("transition"):
            size //= 2
    return total


def measure(memory_efficient, batch_size, image_size, seed=0):
    """(bytes kept after forward, peak bytes, the model) of one training step."""
    mt.manual_seed(seed)
    model = models.densenet121(memory_efficient=memory_efficient)
    images = mt.randn(batch_size, 3, image_size, image_size)
    labels = mt.randint(0, 1000, (batch_size,))
    loss_fn = nn.CrossEntropyLoss()
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        loss = loss_fn(model(images), labels)
        kept, _ = tracemalloc.get_traced_memory()
        loss.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return kept, peak, model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=64)
    args = parser.parse_args()
    measure(False, 2, 32)  # compile (or load) the kernels outside the measurement

    print(f"DenseNet-121 forward + backward, batch {args.batch_size}, "
          f"{args.image_size}x{args.image_size}, float32, training mode")
    header = f"{'memory_efficient':<18}{'kept after forward MiB':>24}{'peak MiB':>11}{'concatenations MiB':>20}"
    print(header)
    print("-" * len(header))
    for memory_efficient in (False, True):
        kept, peak, model = measure(memory_efficient, args.batch_size, args.image_size)
        concatenations = concatenation_bytes(model, args.batch_size, args.image_size)
        print(f"{str(memory_efficient):<18}{kept / MiB:>24.1f}{peak / MiB:>11.1f}{concatenations / MiB:>20.1f}")
    print("kept: held by the graph for backward; peak: the step's maximum (gradients included)")


if __name__ == "__main__":
    main()
