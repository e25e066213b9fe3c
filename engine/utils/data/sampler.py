"""Samplers: the order in which a DataLoader visits dataset indices."""

import engine


class Sampler:
    """Base class: an iterable over dataset indices (or lists of indices)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__}.__iter__")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in random order: a fresh permutation each epoch, or, with
    ``replacement=True``, ``num_samples`` independent uniform draws.

    Args:
        data_source (Dataset): dataset to sample from.
        replacement (bool): draw with replacement. Default: ``False``.
        num_samples (int): number of indices per epoch. Default: ``len(dataset)``.
        generator (engine.Generator): source of randomness; default: the engine's
            global generator (seeded by ``engine.manual_seed``).
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={self.replacement}"
            )
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                "num_samples should be a positive integer value, "
                f"but got num_samples={self.num_samples}"
            )

    @property
    def num_samples(self):
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def _generator_kwargs(self):
        return {} if self.generator is None else {"generator": self.generator}

    def __iter__(self):
        n = len(self.data_source)
        if self.replacement:
            draws = engine.randint(0, n, (self.num_samples,), **self._generator_kwargs())
            yield from draws.tolist()
            return
        for _ in range(self.num_samples // n):
            yield from engine.randperm(n, **self._generator_kwargs()).tolist()
        remainder = self.num_samples % n
        if remainder:
            yield from engine.randperm(n, **self._generator_kwargs()).tolist()[:remainder]

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size``; the last, shorter
    list is dropped if ``drop_last``."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
