"""Probability distributions, as ``torch.distributions``: sampling on the GPU from the
engine's generator, log densities and entropies as differentiable tensor ops."""

from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Normal", "Uniform"]
