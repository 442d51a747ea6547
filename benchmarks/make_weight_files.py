"""Write the PyTorch-made weight files that tests/formats reads (run once; the files are
committed). Needs PyTorch, torchvision and the safetensors package:

    bash ../shared/tools/torch-reference-env.sh /work/venvs/train-torch
    /work/venvs/train-torch/bin/pip install safetensors
    /work/venvs/train-torch/bin/python benchmarks/make_weight_files.py [--out tests/formats/data]

Files (all small):
    densenet_tiny.pt            torch.save(state_dict) of a tiny torchvision DenseNet (ZIP layout)
    densenet_tiny_legacy.pt     the same state_dict, _use_new_zipfile_serialization=False
    vit_tiny.safetensors        safetensors.torch.save_file of a tiny torchvision ViT
    mobilenet_v2_width0.1.pth   torchvision.models.mobilenet_v2(width_mult=0.1, num_classes=3)
    mixed.pt                    a training-checkpoint-like dict: every storage dtype,
                                bfloat16, a transposed and an offset view, a tensor shared
                                twice, nested containers, Python scalars and strings
    mixed.safetensors           every dtype a minitorch_cv tensor has, and BF16, with __metadata__
    uint16.safetensors          a U16 tensor (a dtype minitorch_cv tensors lack)
    reference.npz               what the tests compare with: the models' inputs and eval
                                logits, the state_dicts' values, the mixed tensors' values
                                (bfloat16 as float32)
The tiny models are torchvision's own classes (densenet/vit builders' constructors) with
small configurations, so their state_dict keys are torchvision's.
"""
import argparse
import os
import sys


def tiny_models(torchvision):
    densenet = torchvision.models.DenseNet(growth_rate=4, block_config=(1, 1, 1, 1), num_init_features=8,
                                           bn_size=2, num_classes=5)
    vit = torchvision.models.VisionTransformer(image_size=16, patch_size=8, num_layers=1,
                                               num_heads=2, hidden_dim=8, mlp_dim=16, num_classes=5)
    # a registered torchvision name, for models.get_model(name, weights=path)
    mobilenet = torchvision.models.mobilenet_v2(width_mult=0.1, num_classes=3)
    return {"densenet_tiny": (densenet, 32), "vit_tiny": (vit, 16),  # model, image size
            "mobilenet_v2": (mobilenet, 32)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("tests", "formats", "data"))
    args = parser.parse_args(argv)
    try:
        import numpy as np
        import safetensors.torch
        import torch
        import torchvision
    except ImportError as error:
        sys.exit(f"make_weight_files.py needs torch, torchvision and safetensors ({error})")
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    reference = {}

    models = tiny_models(torchvision)
    for name, (model, size) in models.items():
        x = torch.randn(2, 3, size, size)
        reference[f"{name}.input"] = x.numpy()
        # Give the BatchNorm statistics values other than their initial ones.
        model.train()
        with torch.no_grad():
            model(torch.randn(4, 3, size, size))
        model.eval()
        with torch.no_grad():
            reference[f"{name}.logits"] = model(x).numpy()
        if name != "mobilenet_v2":  # its outputs are enough (and keep the file small)
            for key, value in model.state_dict().items():
                reference[f"{name}.state.{key}"] = value.numpy()
    torch.save(models["densenet_tiny"][0].state_dict(), os.path.join(args.out, "densenet_tiny.pt"))
    torch.save(models["densenet_tiny"][0].state_dict(), os.path.join(args.out, "densenet_tiny_legacy.pt"),
               _use_new_zipfile_serialization=False)
    torch.save(models["mobilenet_v2"][0].state_dict(),
               os.path.join(args.out, "mobilenet_v2_width0.1.pth"))
    safetensors.torch.save_file(models["vit_tiny"][0].state_dict(),
                                os.path.join(args.out, "vit_tiny.safetensors"),
                                metadata={"format": "pt", "model": "vit_tiny"})

    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    shared = torch.tensor([1.5, -2.0])
    tensors = {
        "f64": torch.randn(3, dtype=torch.float64),
        "f32": torch.randn(2, 3),
        "f16": torch.randn(5).half(),
        "bf16": torch.randn(4).bfloat16(),
        "i64": torch.tensor([-(2**40), 7]),
        "i32": torch.tensor([1, -2, 3], dtype=torch.int32),
        "i16": torch.tensor([-300], dtype=torch.int16),
        "i8": torch.tensor([-7, 8], dtype=torch.int8),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.25),
        "empty": torch.zeros(0, 3),
        "transposed": base.t(),       # stride (1, 6): not contiguous
        "offset": base[1:3, 2:5],     # storage offset 8, stride (6, 1)
    }
    mixed = {"epoch": 3, "lr": 0.05, "name": "mixed", "flags": (True, None, -1),
             "tensors": tensors, "shared": [shared, shared],
             "nested": {"deep": [{"value": torch.tensor([2])}]}}
    torch.save(mixed, os.path.join(args.out, "mixed.pt"))
    for key, value in tensors.items():
        reference[f"mixed.{key}"] = value.float().numpy() if key == "bf16" else value.numpy()
    reference["mixed.shared"] = shared.numpy()

    stored = {key: tensors[key].contiguous() for key in
              ("f64", "f32", "f16", "bf16", "i64", "i32", "i16", "i8", "u8", "bool", "scalar", "empty")}
    safetensors.torch.save_file(stored, os.path.join(args.out, "mixed.safetensors"),
                                metadata={"format": "pt", "note": "every dtype"})
    # A dtype that minitorch_cv tensors lack: refused by name.
    safetensors.torch.save_file({"u16": torch.tensor([1, 65535], dtype=torch.uint16)},
                                os.path.join(args.out, "uint16.safetensors"))
    np.savez(os.path.join(args.out, "reference.npz"), **reference)
    for name in sorted(os.listdir(args.out)):
        print(f"{os.path.getsize(os.path.join(args.out, name)):8d}  {name}")


if __name__ == "__main__":
    main()
