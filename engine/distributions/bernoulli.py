"""Bernoulli: 1 with probability `probs` (or sigmoid(`logits`)), else 0."""

import engine

from .distribution import Distribution, broadcast_all

_EPS = 1.1920928955078125e-07  # torch.finfo(torch.float32).eps


def _bce_with_logits(logits, target):  # elementwise, stable: max(x, 0) - x * y + log1p(e^-|x|)
    return engine.relu(logits) - logits * target + engine.log1p((-logits.abs()).exp())


class Bernoulli(Distribution):
    r"""Values in {0, 1}: 1 with probability ``probs``, or sigmoid(``logits``)."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            self._param = self.probs
        else:
            (self.logits,) = broadcast_all(logits)
            self._param = self.logits
        super().__init__(tuple(self._param.shape), (), validate_args)

    def __getattr__(self, name):
        if name == "probs":
            self.probs = engine.sigmoid(self.logits)
            return self.probs
        if name == "logits":
            p = self.probs.clamp(min=_EPS, max=1 - _EPS)
            self.logits = engine.log(p) - engine.log1p(-p)
            return self.logits
        raise AttributeError(name)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        return (self.probs >= 0.5).float().masked_fill(self.probs == 0.5, float("nan"))

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        with engine.no_grad():
            shape = self._extended_shape(sample_shape)
            return engine.bernoulli(self.probs.detach().expand(shape).contiguous())

    def log_prob(self, value):
        logits, value = broadcast_all(self.logits, value)
        return -_bce_with_logits(logits, value)

    def entropy(self):
        return _bce_with_logits(self.logits, self.probs)

    def __repr__(self):
        return f"Bernoulli({tuple(self._param.shape)})"
