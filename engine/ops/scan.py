"""Running reductions along one dim: cumsum and cumprod, with their backward rules.

One dispatch of shaders/scan.wgsl (a thread per row walking it serially) over the
input made contiguous; cumsum's backward is the same kernel run in reverse, cumprod's
is shaders/cumprod_backward.wgsl, exact where the input has zeros.
"""

from __future__ import annotations

import math

from .. import autograd
from ..backend.kernel import Kernel, read, write
from ..dtypes import float32, int32, to_dtype
from ..tensor import Tensor

SCAN = Kernel(
    "scan",
    bindings=(write("out", "T"), read("x", "T")),
    params="n, inner, x_offset: u32",
    types=("T",),
    consts="PROD, REVERSE: bool",
)

CUMPROD_BACKWARD = Kernel(
    "cumprod_backward",
    bindings=(write("gx"), read("x"), read("g")),
    params="n, inner, x_offset, g_offset: u32",
)


def _layout(x: Tensor, d: int):
    """(outer, n, inner) of contiguous x around dim d."""
    return math.prod(x.shape[:d]), x.shape[d], math.prod(x.shape[d + 1 :])


def _scan(x: Tensor, d: int, prod: bool, reverse: bool) -> Tensor:
    """The raw scan of x along d (no autograd); x's dtype is kept."""
    x = x.contiguous()
    out = Tensor._empty(x.shape, x.dtype)
    outer, n, inner = _layout(x, d)
    if outer * n * inner == 0:
        return out
    SCAN(
        threads=outer * inner,
        out=out,
        x=x,
        T=x.dtype.wgsl,
        PROD=prod,
        REVERSE=reverse,
        n=n,
        inner=inner,
    )
    return out


def _prepare(op: str, input: Tensor, dim, dtype):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if dim is None:
        raise TypeError(f"{op}() missing required argument 'dim'")
    d = input._wrap_dim(dim) if input.ndim else input._wrap_dim(dim, 1)
    if dtype is not None:
        out_dtype = to_dtype(dtype)
    else:
        out_dtype = float32 if input.dtype is float32 else int32  # bool and ints -> int64
    x = input if input.dtype is out_dtype else input.to(out_dtype)
    return (x.reshape(1) if input.ndim == 0 else x), d


def cumsum(input: Tensor, dim=None, *, dtype=None) -> Tensor:
    """out[..., k, ...] = sum of input[..., :k + 1, ...] along `dim`."""
    x, d = _prepare("cumsum", input, dim, dtype)
    out = _scan(x, d, prod=False, reverse=False).reshape(input.shape)

    def grad_fn(g, o):
        if autograd.is_grad_enabled() and g.requires_grad:  # create_graph: differentiable
            return (cumsum(g.flip(d), d).flip(d),)
        return (_scan(g.reshape(x.shape), d, prod=False, reverse=True).reshape(input.shape),)

    return autograd.record(out, "CumsumBackward0", (input,), grad_fn)


def cumprod(input: Tensor, dim=None, *, dtype=None) -> Tensor:
    """out[..., k, ...] = product of input[..., :k + 1, ...] along `dim`."""
    x, d = _prepare("cumprod", input, dim, dtype)
    out = _scan(x, d, prod=True, reverse=False).reshape(input.shape)

    def grad_fn(g, o):
        xc = x.detach().contiguous()
        gc = g.detach().reshape(x.shape).contiguous()
        gx = Tensor._empty(x.shape, float32)
        outer, n, inner = _layout(xc, d)
        if gx.numel():
            CUMPROD_BACKWARD(threads=gx.numel(), gx=gx, x=xc, g=gc, n=n, inner=inner)
        return (gx.reshape(input.shape),)

    return autograd.record(out, "CumprodBackward0", (input,), grad_fn)
