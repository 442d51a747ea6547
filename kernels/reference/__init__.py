"""NumPy reference kernels: the specification the other implementations are tested against."""
