"""Element types that NumPy lacks.

bfloat16 ("brain float") is float32 with the low 16 bits of the mantissa cut off: the
same sign bit and 8 exponent bits, 7 mantissa bits. Its bit pattern, shifted left by 16,
is therefore exactly the float32 of the same value, so widening is exact:

    float32 bits = bfloat16 bits << 16
"""
import numpy as np

# The element types a minitorch_cv Tensor can have (bfloat16 arrives widened to float32).
# Files may also hold uint16/uint32/uint64, which are refused by name.
TENSOR_DTYPES = frozenset({"float16", "float32", "float64", "bfloat16", "int8", "int16",
                           "int32", "int64", "uint8", "bool"})


def bfloat16_to_float32(raw):
    """``raw``: the bfloat16 bit patterns as uint16 (any shape); their float32 values."""
    return (raw.astype(np.uint32) << 16).view(np.float32)
