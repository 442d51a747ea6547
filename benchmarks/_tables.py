"""The table that the per-layer benchmarks print (bench_conv, bench_pool)."""


def print_forward_backward_table(rows, layer_width):
    """rows: [(layer, {implementation: (forward_ms, backward_ms)})], with a "reference"
    entry in every row and a "torch-cpu" entry where PyTorch ran. One line per
    implementation: its times, the speed-up over the reference and the ratio to PyTorch."""
    header = (f"{'layer':<{layer_width}} {'impl':<10} {'fwd ms':>9} {'bwd ms':>9} "
              f"{'x ref':>7} {'/torch':>7}")
    print(header)
    print("-" * len(header))
    for layer, results in rows:
        reference_total = sum(results["reference"])
        torch_total = sum(results["torch-cpu"]) if "torch-cpu" in results else None
        for implementation, (forward_ms, backward_ms) in results.items():
            total = forward_ms + backward_ms
            versus_torch = f"{total / torch_total:7.2f}" if torch_total else f"{'-':>7}"
            print(
                f"{layer:<{layer_width}} {implementation:<10} {forward_ms:9.1f} {backward_ms:9.1f} "
                f"{reference_total / total:7.2f} {versus_torch}"
            )
    print("x ref: speed-up of forward+backward over the reference; /torch: time / PyTorch's")
