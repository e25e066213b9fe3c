"""Adam, as in ``torch.optim.Adam`` (AdamW is Adam with decoupled weight decay)."""

import math

import engine

from .optimizer import Optimizer


def _adam_update(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    max_exp_avg_sq,
    step,
    *,
    lr,
    beta1,
    beta2,
    eps,
    weight_decay,
    amsgrad,
    maximize,
    decoupled_weight_decay,
):
    """Update one parameter and its moment estimates in place, for step number ``step``
    (1 on the first update). One fused kernel dispatch for contiguous tensors; the
    composite below (four or more dispatches) handles any other layout.
    """
    if engine._fusable(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq):
        engine._fused_adam_(
            param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step=step, lr=lr, beta1=beta1,
            beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )  # fmt: skip
        return
    if maximize:
        grad = -grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            param.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(param, alpha=weight_decay)
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    second_moment = exp_avg_sq
    if amsgrad:
        max_exp_avg_sq.copy_(engine.maximum(max_exp_avg_sq, exp_avg_sq))
        second_moment = max_exp_avg_sq
    bias_correction1 = 1 - beta1**step
    bias_correction2_sqrt = math.sqrt(1 - beta2**step)
    # lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps), with sqrt(bc2) moved into the scalars
    # so that the denominator costs two dispatches instead of three.
    denom = second_moment.sqrt().add_(eps * bias_correction2_sqrt)
    param.addcdiv_(exp_avg, denom, value=-lr * bias_correction2_sqrt / bias_correction1)


class Adam(Optimizer):
    r"""Adam: adaptive moment estimation. For each parameter :math:`\theta` at step
    :math:`t` with gradient :math:`g_t`:

    .. math::
        \begin{aligned}
        g_t &\leftarrow -g_t \text{ if maximize} \\
        g_t &\leftarrow g_t + \lambda \theta_{t-1} \text{ if } \lambda \neq 0
            \text{ (or } \theta_{t-1} \leftarrow (1 - \gamma\lambda)\theta_{t-1}
            \text{ if decoupled)} \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \hat v_t &\leftarrow \max(\hat v_{t-1}, v_t) \text{ if amsgrad, else } v_t \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma \frac{m_t / (1 - \beta_1^t)}
            {\sqrt{\hat v_t / (1 - \beta_2^t)} + \epsilon}
        \end{aligned}

    Args:
        params: iterable of parameters or of parameter-group dicts.
        lr (float): learning rate :math:`\gamma`. Default: 1e-3.
        betas (tuple): :math:`(\beta_1, \beta_2)`. Default: (0.9, 0.999).
        eps (float): :math:`\epsilon`, added to the denominator. Default: 1e-8.
        weight_decay (float): :math:`\lambda`. Default: 0.
        amsgrad (bool): use the AMSGrad variant. Default: ``False``.
        maximize (bool): maximize the objective. Default: ``False``.
        decoupled_weight_decay (bool): AdamW-style weight decay. Default: ``False``.
        foreach, fused: accepted for compatibility; the update is always per parameter.
        capturable, differentiable: must be ``False``.

    State per parameter: ``step`` (a Python float), ``exp_avg``, ``exp_avg_sq`` and,
    with amsgrad, ``max_exp_avg_sq``.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
        fused=None,
        decoupled_weight_decay=False,
    ):
        name = type(self).__name__
        if isinstance(lr, engine.Tensor) or any(isinstance(b, engine.Tensor) for b in betas):
            raise NotImplementedError(f"{name} with a Tensor learning rate or betas")
        if capturable:
            raise NotImplementedError(f"{name}(capturable=True)")
        if differentiable:
            raise NotImplementedError(f"{name}(differentiable=True)")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _state_for(self, param, amsgrad):
        state = self.state[param]
        if len(state) == 0:
            state["step"] = 0.0
            state["exp_avg"] = engine.zeros_like(param)
            state["exp_avg_sq"] = engine.zeros_like(param)
            if amsgrad:
                state["max_exp_avg_sq"] = engine.zeros_like(param)
        return state

    def step(self, closure=None):
        """Perform one optimization step; return the closure's loss, if given."""
        loss = self._evaluate_closure(closure)
        with engine.no_grad():
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                for param in group["params"]:
                    if param.grad is None:
                        continue
                    state = self._state_for(param, group["amsgrad"])
                    state["step"] += 1
                    _adam_update(
                        param,
                        param.grad,
                        state["exp_avg"],
                        state["exp_avg_sq"],
                        state.get("max_exp_avg_sq"),
                        state["step"],
                        lr=group["lr"],
                        beta1=beta1,
                        beta2=beta2,
                        eps=group["eps"],
                        weight_decay=group["weight_decay"],
                        amsgrad=group["amsgrad"],
                        maximize=group["maximize"],
                        decoupled_weight_decay=group["decoupled_weight_decay"],
                    )
        return loss
