"""Reductions over any set of dims (sum, mean, max, ...) and softmax, with backward rules.

All of them go through `launch.reduce`, one kernel that walks the reduced dims of a
strided view; composites (var, std, logsumexp, norm) are written once on top.
"""

from __future__ import annotations

import builtins
from collections import namedtuple

from .. import autograd
from ..dtypes import bool_, float32, int32
from ..tensor import Tensor
from .launch import elementwise, reduce

values_indices = namedtuple("values_indices", ["values", "indices"])


def _dims(input: Tensor, dim) -> list:
    if dim is None:
        return list(range(input.ndim))
    if isinstance(dim, int):
        return [input._wrap_dim(dim)]
    return [input._wrap_dim(d) for d in dim]


def _expand_back(g: Tensor, input: Tensor, dims, keepdim: bool) -> Tensor:
    """The gradient of a reduced tensor, viewed back to the input's shape (no copy)."""
    if not keepdim:
        shape = [1 if d in dims else n for d, n in enumerate(input.shape)]
        g = g.reshape(shape)
    return g.expand(input.shape)


def sum_to(g: Tensor, shape) -> Tensor:
    """Sum `g` down to `shape`: the gradient of broadcasting from `shape` to g.shape."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.ndim - len(shape)
    dims = list(range(lead)) + [
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    ]
    return sum(g, dims, keepdim=True).reshape(shape) if dims else g.reshape(shape)


def _result_dtype(input: Tensor, dtype):
    if dtype is not None:
        from ..dtypes import to_dtype

        return to_dtype(dtype)
    return float32 if input.dtype is float32 else int32


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over `dim` (all dims when None)."""
    dims = _dims(input, dim)
    out_dtype = _result_dtype(input, dtype)
    src = input if input.dtype is out_dtype or out_dtype is not float32 else input.float()
    out = reduce("sum", src, dims, keepdim, out_dtype)
    return autograd.record(
        out, "SumBackward1", (input,), lambda g, o: (_expand_back(g, input, dims, keepdim),)
    )


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean over `dim` (all dims when None); floating inputs only."""
    if input.dtype is not float32 and dtype is None:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype.name}"
        )
    dims = _dims(input, dim)
    out = reduce("mean", input.float(), dims, keepdim, float32)
    count = 1
    for d in dims:
        count *= input.shape[d]

    def grad_fn(g, o):
        expanded = _expand_back(g, input, dims, keepdim)
        return (
            elementwise(
                "x0 * x1", [expanded, 1.0 / builtins.max(count, 1)], ["f32", "f32"], float32
            ),
        )

    return autograd.record(out, "MeanBackward1", (input,), grad_fn)


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over `dim` (all dims when None)."""
    dims = _dims(input, dim) if dim is not None else list(range(input.ndim))
    out_dtype = _result_dtype(input, dtype)
    out = reduce("prod", input, dims, keepdim, out_dtype)

    def grad_fn(g, o):
        # d(prod)/dx_i is the product of the other elements of x_i's slice: prod / x_i when
        # the slice has no zero; with one zero, the product of the nonzeros at the zero and
        # 0 elsewhere; with more, 0 everywhere. Built from where(): no readback, and it
        # differentiates again.
        from .pointwise import where

        zero = input == 0
        count = _expand_back(sum(zero.float(), dims, keepdim=True), input, dims, True)
        safe = where(zero, 1.0, input)
        nonzero_prod = _expand_back(prod(safe, dims, keepdim=True), input, dims, True)
        others = where(
            zero,
            where(count == 1, nonzero_prod, 0.0),
            where(count == 0, nonzero_prod / safe, 0.0),
        )
        return (_expand_back(g, input, dims, keepdim) * others,)

    return autograd.record(out, "ProdBackward1", (input,), grad_fn)


def _extreme(op: str, input: Tensor, dim, keepdim: bool):
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(
                f"{op}(): Expected reduction dim to be specified for input.numel() "
                "== 0. Specify the reduction dim with the 'dim' argument."
            )
        return _amax_amin(op, input, None, False)
    dims = _dims(input, dim)
    values, indices = reduce(op, input, dims, keepdim, input.dtype, with_index=True)

    def grad_fn(g, o):
        idx = indices if keepdim else indices.unsqueeze(dims[0])
        grad = g if keepdim else g.unsqueeze(dims[0])
        from .creation import zeros
        from .indexing import scatter_add

        return (scatter_add(zeros(input.shape), dims[0], idx, grad),)

    autograd.record(values, op.capitalize() + "Backward0", (input,), grad_fn)
    return values_indices(values, indices)


def _amax_amin(op: str, input: Tensor, dim, keepdim: bool) -> Tensor:
    dims = _dims(input, dim)
    out = reduce(op, input, dims, keepdim, input.dtype)

    def grad_fn(g, o):
        # ties share the gradient equally
        mask = (input == _expand_back(o, input, dims, keepdim)).float()
        count = sum(mask, dims, keepdim=True)
        return (mask * _expand_back(g, input, dims, keepdim) / count.expand(input.shape),)

    return autograd.record(out, "A" + op + "Backward0", (input,), grad_fn)


def max(input: Tensor, dim=None, keepdim: bool = False):
    """Largest value; with `dim`, the (values, indices) along it. max(a, b) is maximum."""
    if isinstance(dim, Tensor):
        from .pointwise import maximum

        return maximum(input, dim)
    return _extreme("max", input, dim, keepdim)


def min(input: Tensor, dim=None, keepdim: bool = False):
    """Smallest value; with `dim`, the (values, indices) along it. min(a, b) is minimum."""
    if isinstance(dim, Tensor):
        from .pointwise import minimum

        return minimum(input, dim)
    return _extreme("min", input, dim, keepdim)


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    return _amax_amin("max", input, None if dim == () else dim, keepdim)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    return _amax_amin("min", input, None if dim == () else dim, keepdim)


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest value along `dim` (of the flattened input when None)."""
    if dim is None:
        return reduce("max", input.reshape(-1), [0], False, input.dtype, with_index=True)[1]
    return reduce("max", input, _dims(input, dim), keepdim, input.dtype, with_index=True)[1]


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value along `dim` (of the flattened input when None)."""
    if dim is None:
        return reduce("min", input.reshape(-1), [0], False, input.dtype, with_index=True)[1]
    return reduce("min", input, _dims(input, dim), keepdim, input.dtype, with_index=True)[1]


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return reduce("all", input, _dims(input, dim), keepdim, bool_)


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return reduce("any", input, _dims(input, dim), keepdim, bool_)


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """Variance over `dim` with Bessel's correction (`correction=1`) by default."""
    if isinstance(unbiased, bool):
        correction = 1 if unbiased else 0
    elif unbiased is not None and dim is None:  # var(x, 0): positional dim
        dim, unbiased = unbiased, None
    correction = 1 if correction is None else correction
    dims = _dims(input, dim)
    count = 1
    for d in dims:
        count *= input.shape[d]
    centered = input - mean(input, dims, keepdim=True)
    return sum(centered * centered, dims, keepdim=keepdim) / builtins.max(count - correction, 0)


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """Standard deviation: the square root of `var` with the same arguments."""
    return var(input, dim, unbiased, keepdim, correction=correction).sqrt()


def var_mean(input, dim=None, *, correction=1, keepdim=False):
    return var(input, dim, keepdim=keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, *, correction=1, keepdim=False):
    return std(input, dim, keepdim=keepdim, correction=correction), mean(input, dim, keepdim)


def norm(input: Tensor, p=2, dim=None, keepdim: bool = False) -> Tensor:
    """The p-norm over `dim` (all elements when None) for p in 1, 2, inf."""
    if p in (2, "fro"):
        return sum(input * input, dim, keepdim).sqrt()
    if p == 1:
        return sum(input.abs(), dim, keepdim)
    if p == float("inf"):
        return amax(input.abs(), () if dim is None else dim, keepdim)
    return sum(input.abs() ** p, dim, keepdim) ** (1.0 / p)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(input), dim)) in one stable pass (a running maximum rescales the sum)."""
    dims = _dims(input, dim)
    out = reduce("logsumexp", input.float(), dims, keepdim, float32)

    def grad_fn(g, o):
        # d/dx logsumexp = softmax(x) = exp(x - out)
        g_full = _expand_back(g, input, dims, keepdim)
        o_full = _expand_back(o, input, dims, keepdim)
        return (g_full * (input - o_full).exp(),)

    return autograd.record(out, "LogsumexpBackward0", (input,), grad_fn)


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """exp(x - max) / sum(exp(x - max)) along `dim`: one reduction pass and one map."""
    d = input._wrap_dim(dim)
    shift, total = reduce("max_sumexp", input, [d], True, float32, with_index=True)
    out = elementwise("m_exp(x0 - x1) / x2", [input, shift, total], ["f32"] * 3, float32)

    def grad_fn(g, o):
        dot = sum(g * o, d, keepdim=True)
        return (elementwise("x1 * (x0 - x2)", [g, o, dot], ["f32"] * 3, float32),)

    return autograd.record(out, "SoftmaxBackward0", (input,), grad_fn)


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """x - max - log(sum(exp(x - max))) along `dim`: one reduction pass and one map."""
    d = input._wrap_dim(dim)
    shift, total = reduce("max_sumexp", input, [d], True, float32, with_index=True)
    out = elementwise("x0 - x1 - m_log(x2)", [input, shift, total], ["f32"] * 3, float32)

    def grad_fn(g, o):
        g_sum = sum(g, d, keepdim=True)
        return (elementwise("x0 - m_exp(x1) * x2", [g, o, g_sum], ["f32"] * 3, float32),)

    return autograd.record(out, "LogSoftmaxBackward0", (input,), grad_fn)
