"""Matrix products: matmul/@ with batching and broadcasting, mm, bmm, linear, einsum.

Everything lands in `_bmm`, one dispatch of shaders/matmul.wgsl over strided
(batch, M, K) and (batch, K, N) views, so transposed operands cost no copy.
"""

from __future__ import annotations

import math

from .. import autograd
from ..autograd import sum_to
from ..backend.kernel import Kernel, ceil_div, read, write
from ..dtypes import float32
from ..tensor import Tensor
from .creation import fill_
from .launch import broadcast_shapes, collapse
from .movement import expand, reshape, squeeze, unsqueeze

MATMUL = Kernel(
    "matmul",
    bindings=(write("c"), read("a"), read("b"), read("bias", optional=True)),
    params="m, n, k: u32; a_batch_stride, a_row_stride, a_k_stride, a_offset: u32;"
    " b_batch_stride, b_k_stride, b_col_stride, b_offset, bias_offset, bias_stride: u32",
    grid="tiles",  # 8x8 threads, each computing a 4x4 block of a 32x32 tile
)


def _as_batch3(x: Tensor, batch_shape) -> Tensor:
    """View (..., R, C) broadcast to batch_shape as (batch, R, C), copying only if needed."""
    x = expand(x, (*batch_shape, *x.shape[-2:])) if tuple(x.shape[:-2]) != tuple(batch_shape) else x
    nb = len(batch_shape)
    if nb == 1:
        return x
    if nb == 0:
        return x._view((1, *x.shape), (0, *x._strides))
    bshape, (bstrides,) = collapse(list(x.shape[:nb]), [list(x._strides[:nb])])
    if len(bshape) == 1:
        return x._view((bshape[0], *x.shape[nb:]), (bstrides[0], *x._strides[nb:]))
    x = x.contiguous()
    return x._view((math.prod(batch_shape), *x.shape[nb:]), (x._strides[nb - 1], *x._strides[nb:]))


def _bmm(a: Tensor, b: Tensor, bias: Tensor | None = None) -> Tensor:
    """c[i] = a[i] @ b[i] (+ bias) for strided a (B, M, K), b (B, K, N); no autograd."""
    if a.dtype is not float32 or b.dtype is not float32:
        raise RuntimeError(f"matmul: expected float32 operands, got {a.dtype} and {b.dtype}")
    batch, m, k = a.shape
    n = b.shape[2]
    out = Tensor._empty((batch, m, n), float32)
    if batch * m * n == 0:
        return out
    if k == 0:
        return fill_(out, 0.0) if bias is None else out.copy_(bias.expand(out.shape))
    if batch > 65535:
        raise NotImplementedError("matmul with more than 65535 batched matrices")
    MATMUL(
        groups=(ceil_div(n, 32), ceil_div(m, 32), batch),
        c=out,
        a=a,
        b=b,
        bias=bias,
        m=m,
        n=n,
        k=k,
        a_batch_stride=a._strides[0],
        a_row_stride=a._strides[1],
        a_k_stride=a._strides[2],
        b_batch_stride=b._strides[0],
        b_k_stride=b._strides[1],
        b_col_stride=b._strides[2],
        bias_stride=0 if bias is None else bias._strides[0],
    )
    return out


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy semantics: 1-D operands are vectors, batch dims broadcast."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError("matmul(): arguments must be Tensors")
    if input.ndim == 0 or other.ndim == 0:
        raise RuntimeError(
            "both arguments to matmul need to be at least 1D, but they are "
            f"{input.ndim}D and {other.ndim}D"
        )
    a = unsqueeze(input, 0) if input.ndim == 1 else input
    b = unsqueeze(other, -1) if other.ndim == 1 else other
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, a.shape[-2:]))} and "
            f"{'x'.join(map(str, b.shape[-2:]))}) in matmul of {tuple(input.shape)} @ "
            f"{tuple(other.shape)}"
        )
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    out = _bmm(_as_batch3(a, batch), _as_batch3(b, batch))
    out = out._view((*batch, *out.shape[1:]), None)

    def grad_fn(g, o):
        ga = gb = None
        if a.requires_grad:
            ga = sum_to(matmul(g, b.transpose(-1, -2)), a.shape)
        if b.requires_grad:
            gb = sum_to(matmul(a.transpose(-1, -2), g), b.shape)
        return ga, gb

    out = autograd.record(out, "MmBackward0", (a, b), grad_fn)
    if other.ndim == 1:
        out = squeeze(out, -1)
    if input.ndim == 1:
        out = squeeze(out, -2 if other.ndim > 1 else -1)
    return out


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2D tensors, got {input.ndim}D and {mat2.ndim}D")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: expected 3D tensors, got {input.ndim}D and {mat2.ndim}D")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {input.shape[0]} and {mat2.shape[0]}")
    return matmul(input, mat2)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias in one dispatch: input (*, in), weight (out, in), bias (out)."""
    if weight.ndim != 2 or input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"linear: mat1 and mat2 shapes cannot be multiplied (input {tuple(input.shape)}, "
            f"weight {tuple(weight.shape)})"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(
            f"linear: bias of shape {tuple(bias.shape)} does not match weight "
            f"of shape {tuple(weight.shape)}"
        )
    x2 = reshape(input.detach(), (-1, input.shape[-1]))
    w_t = weight.detach().t()
    out = _bmm(_as_batch3(x2, ()), _as_batch3(w_t, ()), None if bias is None else bias.detach())
    out = out._view((*input.shape[:-1], weight.shape[0]), None)

    def grad_fn(g, o):
        g2 = reshape(g, (-1, weight.shape[0]))
        gx = reshape(matmul(g2, weight), input.shape) if input.requires_grad else None
        gw = matmul(g2.t(), reshape(input, (-1, input.shape[-1]))) if weight.requires_grad else None
        gb = g2.sum(0) if bias is not None and bias.requires_grad else None
        return gx, gw, gb

    return autograd.record(out, "AddmmBackward0", (input, weight, bias), grad_fn)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return unsqueeze(input, 1) * unsqueeze(vec2, 0)


ger = outer


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input.ndim != 1 or other.ndim != 1 or input.shape != other.shape:
        raise RuntimeError(
            f"dot: expected 1D tensors of the same size, got {tuple(input.shape)} "
            f"and {tuple(other.shape)}"
        )
    return matmul(input, other)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation for one or two operands (no repeated index within one operand)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    if "..." in eq:
        raise NotImplementedError("einsum with '...' (ellipsis) is not implemented")
    inputs, _, output = eq.partition("->")
    specs = inputs.split(",")
    if len(specs) != len(operands):
        raise RuntimeError(f"einsum(): {len(specs)} operand specs for {len(operands)} operands")
    if not _:
        letters = sorted(set("".join(specs)))
        output = "".join(c for c in letters if "".join(specs).count(c) == 1)
    for spec, op in zip(specs, operands, strict=True):
        if len(spec) != op.ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in '{spec}' does not match "
                f"the number of dimensions ({op.ndim}) of its operand"
            )
        if len(set(spec)) != len(spec):
            raise NotImplementedError("einsum with a repeated index within one operand (diagonals)")
    if len(operands) == 1:
        (spec,), (x,) = specs, operands
        summed = [i for i, c in enumerate(spec) if c not in output]
        if summed:
            x = x.sum(summed)
            spec = "".join(c for c in spec if c in output)
        return x.permute([spec.index(c) for c in output]) if output else x
    if len(operands) != 2:
        raise NotImplementedError("einsum with more than two operands")
    (sa, sb), (a, b) = specs, operands
    # indices only in one operand and not in the output are summed right away
    for which in (0, 1):
        s, x, other = (sa, a, sb) if which == 0 else (sb, b, sa)
        drop = [i for i, c in enumerate(s) if c not in output and c not in other]
        if drop:
            x = x.sum(drop)
            s = "".join(c for i, c in enumerate(s) if i not in drop)
        sa, a = (s, x) if which == 0 else (sa, a)
        sb, b = (sb, b) if which == 0 else (s, x)
    batch = [c for c in sa if c in sb and c in output]
    contract = [c for c in sa if c in sb and c not in output]
    left = [c for c in sa if c not in sb]
    right = [c for c in sb if c not in sa]
    size = {c: n for s, x in ((sa, a), (sb, b)) for c, n in zip(s, x.shape, strict=True)}
    a3 = a.permute([sa.index(c) for c in batch + left + contract]).reshape(
        [size[c] for c in batch]
        + [math.prod(size[c] for c in left), math.prod(size[c] for c in contract)]
    )
    b3 = b.permute([sb.index(c) for c in batch + contract + right]).reshape(
        [size[c] for c in batch]
        + [math.prod(size[c] for c in contract), math.prod(size[c] for c in right)]
    )
    out = matmul(a3, b3).reshape([size[c] for c in batch + left + right])
    order = batch + left + right
    return out.permute([order.index(c) for c in output]) if output else out.reshape(())
