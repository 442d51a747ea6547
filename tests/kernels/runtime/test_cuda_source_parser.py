"""Reading kernels and their parameters out of .cu text (kernels/cuda/runtime/source_parser.py)."""
import pytest

from minitorch_cv.kernels.cuda.runtime.source_parser import (
    CudaSourceError,
    Parameter,
    parse_kernels,
    paste_headers,
    project_headers,
)

SOURCE = r"""
// A comment that mentions __syncthreads() and a { brace must not count.
#define SYNC_ALL() __syncthreads()
typedef long long index_t;
using count_t = unsigned int;

/* block comment: __global__ void fake(int x) { } */
__device__ __forceinline__ float helper(float v) { return v * 2; }

__device__ void waits() { SYNC_ALL(); }

namespace inner {
__device__ float nested_wait(float v) { return __shfl_xor_sync(0xffffffffu, v, 1); }
}

extern "C" __global__ void plain(const float* __restrict__ x, scalar_t * y, index_t total, count_t n,
                                 unsigned k, long long int m, const scalar_t* const z, scalar_t const* w) {
    const char* text = "} not code {";
    y[0] = helper(x[0]) + total + n + k + m + z[0] + w[0];
}

extern "C" __global__ void __launch_bounds__(256) through_macro_and_function(float* out) {
    waits();
    out[0] = 1;
}

extern "C" {
__global__ void in_extern_block(float* out) { out[0] = inner::nested_wait(out[0]); }
}
"""


def test_parameters_types_and_constness():
    kernel = parse_kernels(SOURCE, "test.cu")["plain"]
    assert kernel.line == 16
    assert kernel.parameters == (
        Parameter("x", "float", True, True, "const float* __restrict__ x"),
        Parameter("y", "scalar_t", True, False, "scalar_t * y"),
        Parameter("total", "long long", False, False, "index_t total"),
        Parameter("n", "unsigned int", False, False, "count_t n"),
        Parameter("k", "unsigned int", False, False, "unsigned k"),
        Parameter("m", "long long", False, False, "long long int m"),
        Parameter("z", "scalar_t", True, True, "const scalar_t* const z"),
        Parameter("w", "scalar_t", True, True, "scalar_t const* w"),
    )


def test_synchronization_is_found_through_calls_macros_and_namespaces():
    kernels = parse_kernels(SOURCE, "test.cu")
    assert set(kernels) == {"plain", "through_macro_and_function", "in_extern_block"}
    assert not kernels["plain"].synchronizes
    assert kernels["through_macro_and_function"].synchronizes
    assert kernels["in_extern_block"].synchronizes


@pytest.mark.parametrize(
    "source, message",
    [
        ("__global__ void k(float* x) { }", 'must be declared extern "C"'),
        ('template <typename T> extern "C" __global__ void k(T* x) { }', "is a template"),
        ('extern "C" __global__ int k(float* x) { return 0; }', "must return void"),
        ('extern "C" __global__ void k(float** x) { }', "pointer to a pointer"),
        ('extern "C" __global__ void k(float& x) { }', "reference or an array"),
        ('extern "C" __global__ void k(float) { }', "needs a type and a name"),
        ('extern "C" __global__ void k(float* x) { if (x) { }', "unbalanced"),
    ],
)
def test_unusable_kernels_are_explained(source, message):
    with pytest.raises(CudaSourceError, match=message):
        parse_kernels(source, "bad.cu")


HEADER = """// a project header
template <typename T>
__device__ T reduce(T v) { __syncthreads(); return v; }
"""

USES_HEADER = """// a kernel family
#include "reduce.cuh"
#include "missing.cuh"
extern "C" __global__ void k(float* out) {
    out[0] = reduce(out[0]);
}
"""


def test_functions_of_included_headers_count_in_the_call_graph(tmp_path):
    (tmp_path / "reduce.cuh").write_text(HEADER)
    headers = project_headers(USES_HEADER, tmp_path)
    assert list(headers) == ["reduce.cuh"]  # missing.cuh does not exist: left to the compiler
    assert not parse_kernels(USES_HEADER, "k.cu")["k"].synchronizes
    kernel = parse_kernels(USES_HEADER, "k.cu", [HEADER])["k"]
    assert kernel.synchronizes and kernel.line == 4  # the line in k.cu itself


def test_headers_are_pasted_between_line_directives():
    text = paste_headers(USES_HEADER, {"reduce.cuh": HEADER}, "k.cu", lambda name: "/src/" + name)
    assert text.split("\n")[:3] == ["// a kernel family", '#line 1 "/src/reduce.cuh"', "// a project header"]
    assert '#line 3 "k.cu"\n#include "missing.cuh"' in text  # back to k.cu's own line numbers
    with pytest.raises(CudaSourceError, match="cannot include another one"):
        paste_headers(USES_HEADER, {"reduce.cuh": '#include "other.cuh"\n'}, "k.cu", str)
