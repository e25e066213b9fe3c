"""Linear (fully connected) layer and Identity."""

import math

import engine

from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module, _check_device


class Identity(Module):
    r"""A placeholder that returns its input unchanged; constructor arguments are ignored.

    Shape: input :math:`(*)`, output :math:`(*)`, the same tensor.
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    r"""Apply an affine map: :math:`y = x A^T + b`.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: if ``False``, the layer learns no additive bias. Default: ``True``.

    Shape: input :math:`(*, H_{in})`, output :math:`(*, H_{out})`.

    Attributes:
        weight: learnable :math:`(\text{out\_features}, \text{in\_features})`, initialised
            from :math:`\mathcal{U}(-\sqrt{k}, \sqrt{k})` with :math:`k = 1/\text{in\_features}`
            (``kaiming_uniform_`` with ``a=sqrt(5)``).
        bias: learnable :math:`(\text{out\_features})`, drawn from
            :math:`\mathcal{U}(-\sqrt{k}, \sqrt{k})`.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        _check_device(device)
        factory_kwargs = {} if dtype is None else {"dtype": dtype}
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(engine.empty(out_features, in_features, **factory_kwargs))
        if bias:
            self.bias = Parameter(engine.empty(out_features, **factory_kwargs))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw weight and bias from PyTorch's default distributions."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
