"""CUDA C kernels and their launch wrappers."""
