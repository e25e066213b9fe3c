"""The op families; each module holds forward dispatch and backward rules side by side."""

from . import creation, indexing, matmul, methods, movement, pointwise, reduction

methods.install()

__all__ = ["creation", "indexing", "matmul", "methods", "movement", "pointwise", "reduction"]
