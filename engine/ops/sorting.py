"""Ordering and sampling: sort, argsort, topk and multinomial, on the GPU.

sort and topk are one dispatch of shaders/topk.wgsl (each element ranks itself within
its row; sort is topk with k = n); the backward of the values scatters the gradient
back to the positions they came from. multinomial draws on the GPU from the engine's
generator: with replacement by inverse CDF (cumsum, uniform draws, a binary search),
without by the exponential race (the k largest of weight / Exp(1), a topk), so sampling
a token reads back nothing until its caller asks.
"""

from __future__ import annotations

import math
from collections import namedtuple

from .. import autograd
from ..backend.kernel import Kernel, read, write
from ..dtypes import bool_, float32, int32
from ..tensor import Tensor
from . import expr as ex
from .creation import rand, zeros
from .indexing import scatter_add
from .pointwise import formula_map
from .scan import _scan

sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])

TOPK = Kernel(
    "topk",
    bindings=(write("values", "T"), write("indices", "i32"), read("x", "T")),
    params="n, k, inner, x_offset: u32",
    types=("T",),
    consts="FLOAT, DESCENDING: bool",
)

MULTINOMIAL = Kernel(
    "multinomial",
    bindings=(write("out", "i32"), read("cdf"), read("u")),
    params="n, samples: u32",
)


def _ranked(op: str, input: Tensor, k: int, dim: int, descending: bool):
    """(values, indices) of the first k along dim in order, and the wrapped dim."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    x = input.reshape(1) if input.ndim == 0 else input
    d = x._wrap_dim(dim)
    n = x.shape[d]
    if not 0 <= k <= n:
        raise RuntimeError(f"{op}(): selected index k out of range (k={k}, dim {d} of size {n})")
    src = x.detach().contiguous()
    if src.dtype is bool_:
        src = src.to(int32)
    shape = (*x.shape[:d], k, *x.shape[d + 1 :])
    values = Tensor._empty(shape, src.dtype)
    indices = Tensor._empty(shape, int32)
    outer, inner = math.prod(x.shape[:d]), math.prod(x.shape[d + 1 :])
    if outer * inner * k:
        TOPK(
            threads=outer * n * inner,
            values=values,
            indices=indices,
            x=src,
            T=src.dtype.wgsl,
            FLOAT=src.dtype is float32,
            DESCENDING=bool(descending),
            n=n,
            k=k,
            inner=inner,
        )
    if input.dtype is bool_:
        values = values.to(bool_)
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())

    def grad_fn(g, o):
        if input.ndim == 0:
            return (g,)
        return (scatter_add(zeros(input.shape), d, indices, g),)

    values = autograd.record(values, op.capitalize() + "Backward0", (input,), grad_fn)
    return values, indices, d


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """(values, indices) of `input` sorted along `dim`; equal values keep their order."""
    n = input.shape[dim] if input.ndim else 1
    values, indices, _ = _ranked("sort", input, n, dim, descending)
    return sort_result(values, indices)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """The positions that sort `input` along `dim`."""
    return sort(input, dim, descending, stable=stable).indices


def msort(input: Tensor) -> Tensor:
    return sort(input, 0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """(values, indices) of the k largest (smallest if not `largest`) along `dim`, in order."""
    values, indices, _ = _ranked("topk", input, int(k), dim, largest)
    return topk_result(values, indices)


def _race_key(w, u):  # the exponential race: w / Exp(1), largest first
    return w / -ex.log(u)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None):
    """Category numbers drawn from the rows of `input` (non-negative weights)."""
    if not isinstance(input, Tensor) or input.ndim not in (1, 2):
        ndim = input.ndim if isinstance(input, Tensor) else 0
        raise RuntimeError(f"multinomial(): prob_dist must be 1 or 2 dim, got {ndim}D")
    if input.dtype is not float32:
        raise RuntimeError(
            f"multinomial(): only floating point probabilities are supported, got {input.dtype}"
        )
    n = input.shape[-1]
    if n == 0:
        raise RuntimeError("multinomial(): prob_dist must have at least one category")
    if num_samples <= 0:
        raise RuntimeError("multinomial(): cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > n:
        raise RuntimeError(
            "multinomial(): cannot sample n_sample > prob_dist.size(-1) samples without "
            f"replacement (n_sample {num_samples}, {n} categories)"
        )
    w = input.detach().reshape(-1, n).contiguous()
    rows = w.shape[0]
    if not replacement:
        u = rand((rows, n), generator=generator)
        keys = formula_map(_race_key, [w, u], float32, float32)
        out = topk(keys, num_samples, -1).indices
    else:
        cdf = _scan(w, 1, prod=False, reverse=False)
        u = rand((rows, num_samples), generator=generator)
        out = Tensor._empty((rows, num_samples), int32)
        MULTINOMIAL(threads=rows * num_samples, out=out, cdf=cdf, u=u, n=n, samples=num_samples)
    return out.reshape(num_samples) if input.ndim == 1 else out
