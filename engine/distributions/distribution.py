"""Distribution: the base class (batch and event shapes, sample through rsample)."""

import math

import engine


def broadcast_all(*values):
    """The values as tensors broadcast to one shape (numbers become float tensors)."""
    tensors = [v if isinstance(v, engine.Tensor) else engine.tensor(float(v)) for v in values]
    shape = engine.broadcast_shapes(*(t.shape for t in tensors))
    return [t if tuple(t.shape) == tuple(shape) else t.expand(shape) for t in tensors]


def as_size(sample_shape) -> tuple:
    if isinstance(sample_shape, int):
        return (sample_shape,)
    return tuple(sample_shape)


class Distribution:
    """A family of distributions over tensors with `batch_shape` and `event_shape`."""

    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = engine.Size(batch_shape)
        self._event_shape = engine.Size(event_shape)

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        return engine.Size(
            as_size(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape)
        )

    def sample(self, sample_shape=()):
        with engine.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sample")

    def sample_n(self, n):
        return self.sample((n,))

    @property
    def stddev(self):
        return self.variance.sqrt()

    def perplexity(self):
        return engine.exp(self.entropy())

    def __repr__(self):
        return f"{type(self).__name__}()"


LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
