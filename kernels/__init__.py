"""Kernels: array-in, array-out implementations of every op family.

- reference/: NumPy, the readable specification
- cpu/: Numba
- cuda/: CUDA C run through CuPy (or the CPU emulation executor)
"""
