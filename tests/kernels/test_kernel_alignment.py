"""The three forms of every kernel family are aligned, and the CUDA files follow the
conventions that kernels/cuda/README.md states:

- reference, cpu and cuda modules export the same public names (kernels, and the few
  constants an op reads, such as attention's MAX_HEAD_DIM) with the same signatures,
  and nothing else: helpers are private;
- a CUDA device helper and its Numba twin have one name;
- a flat index is decoded fastest-moving coordinate first.
"""
import ast
import inspect
import pathlib
import re

import pytest

from minitorch_cv import backend
from tests.kernels.runtime.cuda_testing import KERNEL_DIR

FAMILIES = sorted(backend.FAMILIES.items())


def public_names(module):
    """Names bound at the top level of the module's own source (not imported), without
    a leading underscore."""
    tree = ast.parse(pathlib.Path(module.__file__).read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(target.id for target in targets if isinstance(target, ast.Name))
    return {name for name in names if not name.startswith("_")}


@pytest.mark.parametrize("name, family", FAMILIES, ids=[name for name, _ in FAMILIES])
def test_the_three_forms_export_the_same_names_with_the_same_signatures(name, family):
    reference = public_names(family.reference)
    assert reference, f"kernels/reference/{name}.py exports nothing"
    for module in (family.cpu, family.cuda):
        assert public_names(module) == reference, module.__name__
    for kernel in sorted(reference):
        expected = getattr(family.reference, kernel)
        if not callable(expected):
            continue
        for module in (family.cpu, family.cuda):
            assert inspect.signature(getattr(module, kernel)) == inspect.signature(expected), (module.__name__, kernel)


def device_functions(path):
    return set(re.findall(r"__device__\s+(?:__forceinline__\s+)?[\w\s\*]+?\b(\w+)\s*\(", path.read_text()))


# CUDA device helpers that have a Numba twin: (family, name). The twin is the same name
# with Python's leading underscore of a private helper.
TWINS = [
    ("conv", "source_index"),
    ("deform_conv", "near_image"),
    ("deform_conv", "bilinear_cell"),
    ("deform_conv", "pixel_or_zero"),
    ("deform_conv", "cell_corners"),
    ("deform_conv", "sampling_point"),
    ("deform_conv", "add_to_pixel"),
    ("pool", "avg_pool_divisor"),
    ("pool", "adaptive_start"),
    ("pool", "adaptive_end"),
    ("resample", "nearest_source"),
    ("resample", "linear_source"),
    ("resample", "cubic_source"),
    ("resample", "cubic_weights"),
    ("grid_sample", "pixel_coordinate"),
    ("grid_sample", "neighbours"),
    ("grid_sample", "read"),
    ("grid_sample", "scatter"),
]


@pytest.mark.parametrize("family, helper", TWINS)
def test_a_device_helper_and_its_numba_twin_have_one_name(family, helper):
    assert helper in device_functions(KERNEL_DIR / f"{family}.cu")
    assert callable(getattr(backend.FAMILIES[family].cpu, "_" + helper, None))


def test_one_helper_one_name_across_cuda_files():
    """pool.cu's backward gathers use conv.cu's source_index, under that name."""
    assert "source_index" in device_functions(KERNEL_DIR / "pool.cu")


# `T name = (cast)(v % A);` decodes v's fastest coordinate, `(v / A) % B` a middle one,
# `v / A` its slowest; for every v, they must come in that order.
_DECODE = re.compile(r"=\s*(?:\(\w+\))?\(*\s*(?P<var>[\w.]+)\s*(?P<op>[%/])\s*(?P<rest>[^;]*);")


def decode_order_violations(text):
    violations = []
    for body in re.split(r"\n(?=\S)", text):  # top-level chunks: one function each
        seen = {}  # variable -> the kinds decoded so far, in order
        for number, line in enumerate(body.split("\n")):
            match = _DECODE.search(line)
            if match is None or line.lstrip().startswith("//"):
                continue
            var, op, rest = match.group("var"), match.group("op"), match.group("rest")
            if var in ("o_stride", "total", "size"):  # arithmetic, not index decoding
                continue
            kind = 0 if op == "%" else (1 if re.match(r"[^%]*\)\s*%", rest) else 2)
            kinds = seen.setdefault(var, [])
            if kinds and kind < kinds[-1]:
                violations.append(line.strip())
            kinds.append(kind)
    return violations


@pytest.mark.parametrize("path", sorted(KERNEL_DIR.glob("*.cu")), ids=lambda path: path.name)
def test_flat_indices_are_decoded_fastest_coordinate_first(path):
    assert decode_order_violations(path.read_text()) == []


def test_the_decoding_check_sees_a_slowest_first_decoding():
    slowest_first = "__global__ void k() {\n    const int n = (int)(index / HW);\n    const int i = (int)(index % HW);\n}\n"
    assert decode_order_violations(slowest_first) == ["const int i = (int)(index % HW);"]
