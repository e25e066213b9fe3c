"""Fused optimizer steps: one dispatch updates a parameter and its optimizer state.

`engine.optim` calls these (as `engine._fused_adam_` / `engine._fused_sgd_`, like
PyTorch's `torch._fused_adam_`) for contiguous float32 tensors; the arithmetic is
the same as torch.optim's single-tensor code, in the same order.
"""

from __future__ import annotations

import struct

from ..backend import get_device, get_kernel
from ..dtypes import float32
from ..tensor import Tensor
from .launch import bind, grid, workgroup_size


def fusable(*tensors) -> bool:
    """True when every tensor given (None is skipped) can go through a fused step."""
    return all(t is None or (t.dtype is float32 and t.is_contiguous()) for t in tensors)


def _check(param: Tensor, *others):
    for t in others:
        if t is not None and tuple(t.shape) != tuple(param.shape):
            raise RuntimeError(
                f"fused optimizer step: state of shape {tuple(t.shape)} for a parameter of "
                f"shape {tuple(param.shape)}"
            )


def adam_step_(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    max_exp_avg_sq=None,
    *,
    step,
    lr,
    beta1,
    beta2,
    eps,
    weight_decay=0.0,
    amsgrad=False,
    maximize=False,
    decoupled_weight_decay=False,
) -> None:
    """One Adam (or AdamW) update of `param`, `exp_avg`, `exp_avg_sq` in place."""
    _check(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)
    numel = param.numel()
    if numel == 0:
        return
    wg = workgroup_size()
    kernel = get_kernel(
        "adam",
        workgroup_size=wg,
        AMSGRAD_BINDING=(
            "@group(0) @binding(4) var<storage, read_write> vmax: array<f32>;" if amsgrad else ""
        ),
        AMSGRAD_UPDATE=(
            "let vm = max(vmax[p.extra.x + i], v_new);\n  vmax[p.extra.x + i] = vm;\n  second = vm;"
            if amsgrad
            else ""
        ),
        PARAMS_BINDING=5 if amsgrad else 4,
    )
    groups = grid(-(-numel // wg))
    tensors = [param, grad, exp_avg, exp_avg_sq] + ([max_exp_avg_sq] if amsgrad else [])
    bindings = [bind(t) for t in tensors]
    offsets = [offset for _, offset in bindings] + [0] * (5 - len(bindings))
    params = struct.pack(
        "<12I8f",
        numel, groups[0], int(maximize), int(decoupled_weight_decay),
        *offsets[:4],
        offsets[4], 0, 0, 0,
        lr, beta1, beta2, eps,
        weight_decay, 1 - beta1**step, (1 - beta2**step) ** 0.5, 0.0,
    )  # fmt: skip
    get_device().dispatch(kernel, [b for b, _ in bindings], params, groups)


def sgd_step_(
    param,
    grad,
    momentum_buffer=None,
    *,
    lr,
    momentum=0.0,
    dampening=0.0,
    weight_decay=0.0,
    nesterov=False,
    maximize=False,
    first_step=False,
) -> None:
    """One SGD update of `param` (and of `momentum_buffer` when momentum is used)."""
    _check(param, grad, momentum_buffer)
    numel = param.numel()
    if numel == 0:
        return
    use_momentum = momentum != 0
    wg = workgroup_size()
    kernel = get_kernel(
        "sgd",
        workgroup_size=wg,
        MOMENTUM_BINDING=(
            "@group(0) @binding(2) var<storage, read_write> buf: array<f32>;"
            if use_momentum
            else ""
        ),
        MOMENTUM_UPDATE=(
            "let bi = p.offsets.z + i;\n"
            "  var b = g;\n"
            "  if (p.offsets.w == 0u) {\n"
            "    b = p.h.y * buf[bi] + (1.0 - p.h.z) * g;\n"
            "  }\n"
            "  buf[bi] = b;\n"
            "  g = select(b, g + p.h.y * b, p.head.w != 0u);"
            if use_momentum
            else ""
        ),
        PARAMS_BINDING=3 if use_momentum else 2,
    )
    groups = grid(-(-numel // wg))
    tensors = [param, grad] + ([momentum_buffer] if use_momentum else [])
    bindings = [bind(t) for t in tensors]
    offsets = [offset for _, offset in bindings] + [0]
    params = struct.pack(
        "<8I4f",
        numel, groups[0], int(maximize), int(nesterov),
        offsets[0], offsets[1], offsets[2], int(first_step),
        lr, momentum, dampening, weight_decay,
    )  # fmt: skip
    get_device().dispatch(kernel, [b for b, _ in bindings], params, groups)
