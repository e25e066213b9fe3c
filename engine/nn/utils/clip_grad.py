"""Gradient clipping: clip_grad_norm_ and clip_grad_value_, as ``torch.nn.utils.clip_grad``.

The total norm stays on the GPU and scales the gradients there (one multiply per
gradient by the clip coefficient ``min(1, max_norm / (total + 1e-6))``), so a training
step reads nothing back unless ``error_if_nonfinite`` asks to look at the norm.
"""

import math

import engine


def _grads(parameters):
    if isinstance(parameters, engine.Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    r"""Scale the gradients of `parameters` in place so that their total norm (of order
    ``norm_type``, the norm of all gradients together, ``inf`` for the largest absolute
    value) is at most ``max_norm``. Returns the total norm before clipping (a tensor)."""
    grads = _grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return engine.tensor(0.0)
    with engine.no_grad():
        if norm_type == math.inf:
            norms = [g.abs().amax() for g in grads]
            total = norms[0] if len(norms) == 1 else engine.stack(norms).amax()
        else:
            norms = [engine.norm(g, norm_type) for g in grads]
            total = norms[0] if len(norms) == 1 else engine.norm(engine.stack(norms), norm_type)
        if error_if_nonfinite and not bool(engine.isfinite(total).item()):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is "
                "non-finite, so it cannot be clipped. To disable this error and scale the "
                "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
            )
        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    r"""Clamp the gradients of `parameters` in place to ``[-clip_value, clip_value]``."""
    clip_value = float(clip_value)
    with engine.no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)
