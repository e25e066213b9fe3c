"""Categorical: one of K categories, from probabilities or logits along the last dim."""

import math

import engine

from .distribution import Distribution, as_size

_FLOAT_MIN = -3.4028234663852886e38  # torch.finfo(torch.float32).min


class Categorical(Distribution):
    r"""A distribution over ``{0, ..., K-1}`` given by ``probs`` (non-negative, normalized
    along the last dim) or ``logits`` (unnormalized log probabilities), not both.

    ``sample`` draws on the GPU (``engine.multinomial``) with the engine's generator.
    """

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self._param = self.probs
        else:
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            self._param = self.logits
        self._num_events = self._param.shape[-1]
        super().__init__(tuple(self._param.shape[:-1]), (), validate_args)

    def __getattr__(self, name):  # the other parameterization, computed when first asked
        if name == "probs":
            self.probs = engine.softmax(self.logits, -1)
            return self.probs
        if name == "logits":
            p = self.probs.clamp(min=1.1920928955078125e-07, max=1 - 1.1920928955078125e-07)
            self.logits = engine.log(p)
            return self.logits
        raise AttributeError(name)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self):
        return engine.full(self._extended_shape(), math.nan)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return engine.full(self._extended_shape(), math.nan)

    def sample(self, sample_shape=()):
        sample_shape = as_size(sample_shape)
        count = math.prod(sample_shape)
        probs_2d = self.probs.detach().reshape(-1, self._num_events)
        draws = engine.multinomial(probs_2d, max(count, 1), True)  # (batch, count)
        return draws.t().reshape(*sample_shape, *self._batch_shape)

    def log_prob(self, value):
        value = value.long()
        shape = engine.broadcast_shapes(value.shape, self._batch_shape)
        value = value.expand(shape)
        logits = self.logits.expand(*shape, self._num_events)
        return logits.gather(-1, value.unsqueeze(-1)).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=_FLOAT_MIN)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = engine.arange(self._num_events, dtype=engine.int64)
        values = values.reshape(-1, *([1] * len(self._batch_shape)))
        return values.expand(-1, *self._batch_shape) if expand else values

    def __repr__(self):
        name = "probs" if "probs" in self.__dict__ and self._param is self.probs else "logits"
        return f"Categorical({name}: {tuple(self._param.shape)})"
