"""Fused optimizer steps: one dispatch updates a parameter and its optimizer state.

`engine.optim` calls these (as `engine._fused_adam_` / `engine._fused_sgd_`, like
PyTorch's `torch._fused_adam_`) for contiguous float32 tensors; the arithmetic is
the same as torch.optim's single-tensor code, in the same order.
"""

from __future__ import annotations

from ..backend.kernel import Kernel, read, write
from ..dtypes import float32
from ..tensor import Tensor

ADAM = Kernel(
    "adam",
    bindings=(write("param"), read("grad"), write("m"), write("v"), write("vmax", optional=True)),
    params="maximize, decoupled_weight_decay: u32;"
    " param_offset, grad_offset, m_offset, v_offset, vmax_offset: u32;"
    " lr, beta1, beta2, eps, weight_decay, bias_correction1, sqrt_bias_correction2: f32",
)

SGD = Kernel(
    "sgd",
    bindings=(write("param"), read("grad"), write("buf", optional=True)),
    params="maximize, nesterov, first_step, param_offset, grad_offset, buf_offset: u32;"
    " lr, momentum, dampening, weight_decay: f32",
)


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
    ADAM(
        threads=numel,
        param=param,
        grad=grad,
        m=exp_avg,
        v=exp_avg_sq,
        vmax=max_exp_avg_sq if amsgrad else None,
        maximize=int(maximize),
        decoupled_weight_decay=int(decoupled_weight_decay),
        lr=lr,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        weight_decay=weight_decay,
        bias_correction1=1 - beta1**step,
        sqrt_bias_correction2=(1 - beta2**step) ** 0.5,
    )


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
    SGD(
        threads=numel,
        param=param,
        grad=grad,
        buf=momentum_buffer if momentum != 0 else None,
        maximize=int(maximize),
        nesterov=int(nesterov),
        first_step=int(first_step),
        lr=lr,
        momentum=momentum,
        dampening=dampening,
        weight_decay=weight_decay,
    )
