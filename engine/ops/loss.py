"""Fused cross-entropy: log_softmax, the pick of the target logit and the reduction in
one dispatch, and its backward in one more (PyTorch's composite takes about twenty).

`engine.nn.functional.cross_entropy` calls it (as `engine._cross_entropy`) for logits
(N, C) with class-index targets, no class weights and no label smoothing; every other
case goes through the composite written with public ops. Under create_graph=True the
backward is the same formula written with differentiable ops, so it has a graph.
"""

from __future__ import annotations

from .. import autograd
from ..backend import get_device
from ..backend.kernel import Kernel, read, write
from ..dtypes import float32, int32
from ..tensor import Tensor
from .creation import arange
from .reduction import softmax

_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}

# reduction: 0 none, 1 mean, 2 sum
_PARAMS = (
    "rows, classes, reduction, x_row_stride, x_class_stride, x_offset: u32;"
    " labels_stride, labels_offset: u32; ignore_index: i32; grad_out_offset: u32"
)
CROSS_ENTROPY = Kernel(
    "cross_entropy",
    bindings=(
        write("loss"),
        write("lse"),
        write("count"),
        read("x"),
        read("labels", "i32"),
        write("flags", "atomic<u32>"),
    ),
    params=_PARAMS,
    grid="workgroups",
)
CROSS_ENTROPY_BACKWARD = Kernel(
    "cross_entropy_backward",
    bindings=(
        write("grad"),
        read("x"),
        read("labels", "i32"),
        read("lse"),
        read("count"),
        read("grad_out"),
    ),
    params=_PARAMS,
)


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
    if rows == 0 or classes == 0:
        raise RuntimeError("cross_entropy: empty input")
    loss = Tensor._empty((rows,) if reduction == "none" else (), float32)
    lse = Tensor._empty((rows,), float32)
    count = Tensor._empty((), float32)
    shared = {
        "rows": rows,
        "classes": classes,
        "reduction": _REDUCTIONS[reduction],
        "x_row_stride": input._strides[0],
        "x_class_stride": input._strides[1],
        "labels_stride": target._strides[0],
        "ignore_index": ignore_index,
    }
    # 'mean' and 'sum': one workgroup strides over the rows and sums in a tree
    grid = {"threads": rows} if reduction == "none" else {"workgroups": 1}
    CROSS_ENTROPY(
        **grid,
        **shared,
        loss=loss,
        lse=lse,
        count=count,
        x=input,
        labels=target,
        flags=get_device().flags(),
        grad_out_offset=0,
    )

    def grad_fn(g, o):
        if autograd.is_grad_enabled():  # create_graph: a gradient that is differentiable
            return _composite_grad(input, target, ignore_index, reduction, g), None
        grad = Tensor._empty((rows, classes), float32)
        CROSS_ENTROPY_BACKWARD(
            threads=rows * classes,
            **shared,
            grad=grad,
            x=input,
            labels=target,
            lse=lse,
            count=count,
            grad_out=g.contiguous(),
        )
        return grad, None

    return autograd.record(loss, "NllLossBackward0", (input, target), grad_fn)


def _composite_grad(input, target, ignore_index, reduction, g):
    """d loss / d input written with differentiable ops (so it has a graph): for row i with
    a counted label t_i, g_i * (softmax(x_i) - onehot(t_i)), divided by the count for 'mean'.
    The same formula as cross_entropy_backward.wgsl."""
    counted = (target != ignore_index).float().unsqueeze(1)
    onehot = (arange(input.shape[1], dtype=int32).unsqueeze(0) == target.unsqueeze(1)).float()
    grad = (softmax(input, 1) - onehot) * counted
    if reduction == "none":
        return grad * g.unsqueeze(1)
    return grad * (g / counted.sum() if reduction == "mean" else g)
