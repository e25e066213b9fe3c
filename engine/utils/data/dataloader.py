"""DataLoader: iterate over a dataset in (shuffled) batches."""

import engine

from .collate import default_collate, default_convert
from .dataset import Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler


def _tensor_dataset_source(dataset):
    """If ``dataset`` is a TensorDataset, possibly wrapped in Subsets, return its
    tensors and a function mapping outer indices to rows of those tensors."""
    index_maps = []
    while isinstance(dataset, Subset):
        index_maps.append(dataset.indices)
        dataset = dataset.dataset
    if not isinstance(dataset, TensorDataset):
        return None

    def rows(indices):
        for index_map in index_maps:
            indices = [index_map[i] for i in indices]
        return indices

    return dataset.tensors, rows


class DataLoader:
    r"""Iterate over ``dataset`` in batches.

    Args:
        dataset (Dataset): where the samples come from.
        batch_size (int): samples per batch; ``None`` turns batching off. Default: 1.
        shuffle (bool): visit the samples in a new random order every epoch.
        sampler (Sampler or iterable): the order of indices; exclusive with ``shuffle``.
        batch_sampler (Sampler or iterable): yields lists of indices; exclusive with
            ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers (int): must be 0; samples are loaded in the main process.
        collate_fn (callable): merges a list of samples into a batch.
            Default: :func:`default_collate`.
        pin_memory (bool): accepted for compatibility; has no effect.
        drop_last (bool): drop the last batch if it is smaller than ``batch_size``.
        generator (engine.Generator): source of randomness for ``shuffle``.

    When ``dataset`` is a :class:`TensorDataset` (or a :class:`Subset` of one) and
    ``collate_fn`` is the default, each batch is gathered with one indexing op per
    tensor, ``tensor[index_tensor]``, instead of stacking samples one by one; the
    batch is a list with one tensor per dataset tensor, as with ``default_collate``.
    """

    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=None,
        sampler=None,
        batch_sampler=None,
        num_workers=0,
        collate_fn=None,
        pin_memory=False,
        drop_last=False,
        timeout=0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor=None,
        persistent_workers=False,
        pin_memory_device="",
        in_order=True,
    ):
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                "multiprocessing."
            )
        if num_workers > 0:
            raise NotImplementedError(
                "DataLoader(num_workers > 0): worker processes are not supported; use num_workers=0"
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive "
                "with drop_last"
            )
        if sampler is None:
            if shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.drop_last = drop_last
        self.timeout = timeout
        self.generator = generator
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn
        if collate_fn is None:
            self.collate_fn = default_collate if self._auto_collation else default_convert

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    def __len__(self):
        if self._auto_collation:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self):
        if not self._auto_collation:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        source = None
        if self.collate_fn is default_collate:
            source = _tensor_dataset_source(self.dataset)
        for indices in self.batch_sampler:
            if source is None:
                yield self.collate_fn([self.dataset[index] for index in indices])
            else:
                tensors, rows = source
                index_tensor = engine.tensor(rows(list(indices)), dtype=engine.int64)
                yield [tensor[index_tensor] for tensor in tensors]
