"""Loss modules: thin Modules over the loss functions of ``engine.nn.functional``.

``reduction`` is ``'none'`` (per-element loss), ``'mean'`` or ``'sum'``. Class
weights are registered as buffers, so they appear in ``state_dict()`` as in PyTorch.
"""

from .. import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = F._legacy_reduction(size_average, reduce)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    r"""Squared error :math:`\ell_n = (x_n - y_n)^2`, reduced.

    Shape: input :math:`(*)`, target :math:`(*)` (same shape); output scalar, or
    :math:`(*)` with ``reduction='none'``.
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    r"""Absolute error :math:`\ell_n = |x_n - y_n|`, reduced. Shapes as :class:`MSELoss`."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class NLLLoss(_WeightedLoss):
    r"""Negative log likelihood :math:`\ell_n = -w_{y_n} x_{n, y_n}` for log-probabilities
    ``x``; ``mean`` divides by :math:`\sum_n w_{y_n}`. Targets equal to ``ignore_index``
    contribute nothing.

    Shape: input :math:`(N, C)`, :math:`(C)` or :math:`(N, C, d_1, \ldots)`; target
    :math:`(N)`, :math:`()` or :math:`(N, d_1, \ldots)` of class indices.
    """

    def __init__(
        self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class CrossEntropyLoss(_WeightedLoss):
    r"""Cross entropy between logits and targets: ``log_softmax`` over the class
    dimension then negative log likelihood. See :func:`engine.nn.functional.cross_entropy`.

    Shape: input :math:`(N, C)`, :math:`(C)` or :math:`(N, C, d_1, \ldots)`; target of
    class indices :math:`(N)`, :math:`()` or :math:`(N, d_1, \ldots)`, or of class
    probabilities with the input's shape.
    """

    def __init__(
        self,
        weight=None,
        size_average=None,
        ignore_index=-100,
        reduce=None,
        reduction="mean",
        label_smoothing=0.0,
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class BCELoss(_WeightedLoss):
    r"""Binary cross entropy on probabilities:
    :math:`\ell_n = -w_n [y_n \log x_n + (1 - y_n) \log(1 - x_n)]`.

    Shape: input :math:`(*)` in :math:`[0, 1]`, target :math:`(*)`.
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    r"""Sigmoid + binary cross entropy on logits, computed stably:
    :math:`\ell_n = -w_n [p_c y_n \log \sigma(x_n) + (1 - y_n) \log(1 - \sigma(x_n))]`,
    with ``pos_weight`` :math:`p_c` broadcast along the last (class) dimension.

    Shape: input :math:`(*)`, target :math:`(*)`.
    """

    def __init__(
        self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
    ):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(
            input,
            target,
            self.weight,
            pos_weight=self.pos_weight,
            reduction=self.reduction,
        )
