"""Fused cross-entropy: log_softmax, the pick of the target logit and the reduction in
one dispatch, and its backward in one more (PyTorch's composite takes about twenty).

`engine.nn.functional.cross_entropy` calls it (as `engine._cross_entropy`) for logits
(N, C) with class-index targets, no class weights and no label smoothing; every other
case goes through the composite written with public ops. Under create_graph=True the
backward is the gradient of that composite (log_softmax and nll_loss), which has a graph.
"""

from __future__ import annotations

import struct

from .. import autograd
from ..backend import get_device, get_kernel
from ..dtypes import float32, int32
from ..tensor import Tensor
from .launch import bind, grid, workgroup_size

_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def _params(
    rows,
    classes,
    reduction,
    groups_x,
    x,
    x_offset,
    target,
    target_offset,
    ignore_index,
    grad_offset=0,
):
    return struct.pack(
        "<12I",
        rows, classes, _REDUCTIONS[reduction], groups_x,
        x._strides[0], x._strides[1], x_offset, 0,
        target._strides[0], target_offset, ignore_index & 0xFFFFFFFF, grad_offset,
    )  # fmt: skip


def cross_entropy(
    input: Tensor, target: Tensor, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Cross entropy of logits (N, C) against class indices (N,)."""
    if input.ndim != 2 or input.dtype is not float32:
        raise RuntimeError(
            f"cross_entropy: expected float32 logits of shape (N, C), got "
            f"{tuple(input.shape)} {input.dtype}"
        )
    if target.dtype is not int32 or tuple(target.shape) != (input.shape[0],):
        raise RuntimeError(
            f"cross_entropy: expected class indices of shape ({input.shape[0]},) for input "
            f"{tuple(input.shape)}, got {tuple(target.shape)} {target.dtype}"
        )
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    rows, classes = input.shape
    dev = get_device()
    wg = workgroup_size()
    loss = Tensor._empty((rows,) if reduction == "none" else (), float32)
    lse = Tensor._empty((rows,), float32)
    count = Tensor._empty((), float32)
    if rows == 0 or classes == 0:
        raise RuntimeError("cross_entropy: empty input")
    (x_binding, x_offset), (t_binding, t_offset) = bind(input), bind(target)
    groups = grid(-(-rows // wg)) if reduction == "none" else (1, 1, 1)
    kernel = get_kernel("cross_entropy", workgroup_size=wg)
    dev.dispatch(
        kernel,
        [
            loss._storage.buffer,
            lse._storage.buffer,
            count._storage.buffer,
            x_binding,
            t_binding,
            dev.flags(),
        ],
        _params(
            rows, classes, reduction, groups[0], input, x_offset, target, t_offset, ignore_index
        ),
        groups,
    )

    def grad_fn(g, o):
        if autograd.is_grad_enabled():  # create_graph: a gradient that is differentiable
            return _composite_grad(input, target, ignore_index, reduction, g), None
        g = g.contiguous()
        grad = Tensor._empty((rows, classes), float32)
        back_groups = grid(-(-(rows * classes) // wg))
        (xb, xo), (tb, to), (gb, go) = bind(input), bind(target), bind(g)
        dev.dispatch(
            get_kernel("cross_entropy_backward", workgroup_size=wg),
            [grad._storage.buffer, xb, tb, lse._storage.buffer, count._storage.buffer, gb],
            _params(
                rows, classes, reduction, back_groups[0], input, xo, target, to, ignore_index, go
            ),
            back_groups,
        )
        return grad, None

    return autograd.record(loss, "NllLossBackward0", (input, target), grad_fn)


def _composite_grad(input, target, ignore_index, reduction, g):
    """d loss / d input with a graph: the gradient of the same loss written with public
    ops, each of whose backward rules is differentiable."""
    from ..nn import functional
    from .reduction import log_softmax

    loss = functional.nll_loss(
        log_softmax(input, 1), target, ignore_index=ignore_index, reduction=reduction
    )
    (grad,) = autograd.grad(loss, [input], g, create_graph=True)
    return grad
