"""Datasets: Dataset, TensorDataset, Subset and random_split."""

import itertools
import math
import warnings

import engine


class Dataset:
    """An indexable collection of samples: subclasses define ``__getitem__(index)``
    and usually ``__len__()``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__}.__getitem__")


class TensorDataset(Dataset):
    r"""Samples are slices of tensors along their first dimension:
    ``dataset[i] == tuple(t[i] for t in tensors)``.

    All tensors must have the same size :math:`N` in dimension 0. A
    :class:`~engine.utils.data.DataLoader` over a TensorDataset gathers each batch
    with one indexing op per tensor rather than stacking samples one by one.
    """

    def __init__(self, *tensors):
        if any(tensors[0].shape[0] != tensor.shape[0] for tensor in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at positions ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def _lengths_from_fractions(fractions, total):
    lengths = []
    for index, fraction in enumerate(fractions):
        if fraction < 0 or fraction > 1:
            raise ValueError(f"Fraction at index {index} is not between 0 and 1")
        lengths.append(math.floor(total * fraction))
    # Hand the items lost to flooring out one at a time, round robin.
    for index in range(total - sum(lengths)):
        lengths[index % len(lengths)] += 1
    for index, length in enumerate(lengths):
        if length == 0:
            warnings.warn(
                f"Length of split at index {index} is 0. This might result in an empty dataset.",
                stacklevel=3,
            )
    return lengths


def random_split(dataset, lengths, generator=None):
    """Randomly split ``dataset`` into non-overlapping :class:`Subset` s of the given
    lengths. ``lengths`` may be fractions summing to 1; the items left over by
    flooring are given one each to the first splits.

    Args:
        dataset (Dataset): dataset to split.
        lengths (sequence): lengths, or fractions, of the splits.
        generator (engine.Generator): source of the permutation; default: the
            engine's global generator.
    """
    if math.isclose(sum(lengths), 1) and sum(lengths) <= len(dataset):
        lengths = _lengths_from_fractions(lengths, len(dataset))
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = _randperm(sum(lengths), generator)
    return [
        Subset(dataset, indices[offset - length : offset])
        for offset, length in zip(itertools.accumulate(lengths), lengths)
    ]


def _randperm(n, generator):
    if generator is None:
        return engine.randperm(n).tolist()
    return engine.randperm(n, generator=generator).tolist()
