"""AdamW: Adam with decoupled weight decay, as in ``torch.optim.AdamW``."""

from .adam import Adam


class AdamW(Adam):
    r"""Adam whose weight decay shrinks the parameters directly,
    :math:`\theta \leftarrow (1 - \gamma\lambda)\,\theta`, instead of adding
    :math:`\lambda\theta` to the gradient (so the decay does not pass through the
    moment estimates). Arguments as :class:`Adam`, with ``weight_decay`` defaulting
    to 1e-2.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
        foreach=None,
        capturable=False,
        differentiable=False,
        fused=None,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
