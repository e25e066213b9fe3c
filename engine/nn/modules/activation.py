"""Activation layers: thin Modules over ``engine.nn.functional``.

All are elementwise (input and output shape :math:`(*)`) except Softmax and
LogSoftmax, which normalise along ``dim``.
"""

from .. import functional as F
from .module import Module


class ReLU(Module):
    r""":math:`\text{ReLU}(x) = \max(0, x)`."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    r""":math:`\text{LeakyReLU}(x) = \max(0, x) + \text{negative\_slope} \cdot \min(0, x)`."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        inplace = ", inplace=True" if self.inplace else ""
        return f"negative_slope={self.negative_slope}{inplace}"


class GELU(Module):
    r""":math:`\text{GELU}(x) = x \cdot \Phi(x)`; ``approximate="tanh"`` uses the tanh
    approximation of the normal CDF :math:`\Phi`."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    r""":math:`\sigma(x) = 1 / (1 + e^{-x})`."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    r""":math:`\tanh(x) = (e^x - e^{-x}) / (e^x + e^{-x})`."""

    def forward(self, input):
        return F.tanh(input)


class Softmax(Module):
    r""":math:`\text{Softmax}(x_i) = e^{x_i} / \sum_j e^{x_j}` along ``dim``; slices along
    ``dim`` of the output sum to 1."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    r""":math:`\text{LogSoftmax}(x_i) = x_i - \log \sum_j e^{x_j}` along ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"
