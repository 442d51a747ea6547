"""Special functions NumPy lacks, for the ops that need them (erf, for exact GELU).

On the CPU, ``math.erf`` is compiled into a NumPy ufunc by Numba (exact to the last
bit, fast); on the GPU, CuPy provides erf in cupyx.scipy.special.
"""
import math

import numba
import numpy as np

from ..devices import namespace


# Explicit signatures: a lazily typed ufunc would pick the float64 loop for float32
# input once a float64 call had compiled it, silently changing the output dtype.
@numba.vectorize(["float32(float32)", "float64(float64)"], cache=True)
def _erf_cpu(x):
    return math.erf(x)


def erf(array):
    """Elementwise error function of a NumPy or CuPy array, keeping its dtype."""
    if namespace(array) is np:
        return _erf_cpu(array)
    from cupyx.scipy.special import erf as erf_gpu

    return erf_gpu(array)
