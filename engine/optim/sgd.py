"""Stochastic gradient descent, optionally with momentum, as in ``torch.optim.SGD``."""

import engine

from .optimizer import Optimizer


def _sgd_update(
    param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov, maximize
):
    """Update one parameter in place; return its momentum buffer (``None`` without momentum).

    One fused kernel dispatch for contiguous tensors; the composite below (up to five
    dispatches with every option on) handles any other layout.
    """
    if engine._fusable(param, grad, momentum_buffer):
        first_step = momentum != 0 and momentum_buffer is None
        if first_step:
            momentum_buffer = engine.empty_like(param)
        engine._fused_sgd_(
            param, grad, momentum_buffer, lr=lr, momentum=momentum, dampening=dampening,
            weight_decay=weight_decay, nesterov=nesterov, maximize=maximize, first_step=first_step,
        )  # fmt: skip
        return momentum_buffer
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = grad.detach().clone()
        else:
            momentum_buffer.mul_(momentum).add_(grad, alpha=1 - dampening)
        grad = grad.add(momentum_buffer, alpha=momentum) if nesterov else momentum_buffer
    param.add_(grad, alpha=-lr)
    return momentum_buffer


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum, Nesterov momentum and
    L2 weight decay. For each parameter :math:`\theta` with gradient :math:`g_t`:

    .. math::
        \begin{aligned}
        g_t &\leftarrow -g_t \text{ if maximize} \\
        g_t &\leftarrow g_t + \lambda \theta_{t-1} \text{ if } \lambda \neq 0 \\
        b_t &\leftarrow \mu b_{t-1} + (1 - \tau) g_t \quad (b_1 = g_1) \\
        g_t &\leftarrow g_t + \mu b_t \text{ if nesterov, else } b_t \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma g_t
        \end{aligned}

    Args:
        params: iterable of parameters or of parameter-group dicts.
        lr (float): learning rate :math:`\gamma`. Default: 1e-3.
        momentum (float): momentum factor :math:`\mu`. Default: 0.
        dampening (float): dampening :math:`\tau` for momentum. Default: 0.
        weight_decay (float): L2 penalty :math:`\lambda`. Default: 0.
        nesterov (bool): use Nesterov momentum. Default: ``False``.
        maximize (bool): maximize the objective instead of minimizing. Default: ``False``.
        foreach, fused: accepted for compatibility; the update is always per parameter.
        differentiable: must be ``False``.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
        foreach=None,
        differentiable=False,
        fused=None,
    ):
        if isinstance(lr, engine.Tensor):
            raise NotImplementedError("SGD with a Tensor learning rate")
        if differentiable:
            raise NotImplementedError("SGD(differentiable=True)")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one optimization step; return the closure's loss, if given."""
        loss = self._evaluate_closure(closure)
        with engine.no_grad():
            for group in self.param_groups:
                for param in group["params"]:
                    if param.grad is None:
                        continue
                    state = self.state[param] if group["momentum"] != 0 else {}
                    buffer = _sgd_update(
                        param,
                        param.grad,
                        state.get("momentum_buffer"),
                        lr=group["lr"],
                        momentum=group["momentum"],
                        dampening=group["dampening"],
                        weight_decay=group["weight_decay"],
                        nesterov=group["nesterov"],
                        maximize=group["maximize"],
                    )
                    if group["momentum"] != 0:
                        state["momentum_buffer"] = buffer
        return loss
