"""The op families; each module holds forward dispatch and backward rules side by side."""

from . import (
    creation,
    fused,
    indexing,
    loss,
    matmul,
    methods,
    movement,
    pointwise,
    rearrange,
    reduction,
    scan,
    sorting,
)

methods.install()

__all__ = [
    "creation",
    "fused",
    "indexing",
    "matmul",
    "methods",
    "movement",
    "pointwise",
    "rearrange",
    "reduction",
    "scan",
    "sorting",
]
