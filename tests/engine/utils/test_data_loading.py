"""engine.utils.data: datasets, samplers, collation and the DataLoader."""

from collections import namedtuple

import pytest

import engine
from engine.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def make_dataset(n=10):
    x = engine.arange(n * 2, dtype=engine.float32).reshape(n, 2)
    y = engine.arange(n)
    return TensorDataset(x, y)


class Squares(Dataset):
    """A map-style dataset of Python numbers and tensors."""

    def __len__(self):
        return 7

    def __getitem__(self, index):
        return {"x": engine.full((2,), float(index)), "y": index * index, "name": str(index)}


def test_tensor_dataset():
    dataset = make_dataset()
    assert len(dataset) == 10
    x, y = dataset[3]
    assert x.tolist() == [6.0, 7.0] and y.item() == 3
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(engine.zeros(3), engine.zeros(4))


def test_dataloader_batches_and_drop_last():
    dataset = make_dataset()
    loader = DataLoader(dataset, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert isinstance(batches[0], list)
    assert [tuple(x.shape) for x, _ in batches] == [(4, 2), (4, 2), (2, 2)]
    assert batches[1][1].tolist() == [4, 5, 6, 7]
    assert batches[2][0].tolist() == [[16.0, 17.0], [18.0, 19.0]]
    loader = DataLoader(dataset, batch_size=4, drop_last=True)
    assert len(loader) == 2 and [tuple(y.shape) for _, y in loader] == [(4,), (4,)]


def test_shuffle_sees_every_index_once_and_is_reproducible():
    dataset = make_dataset(13)

    def epoch_orders(seed, epochs=2):
        generator = engine.Generator().manual_seed(seed)
        loader = DataLoader(dataset, batch_size=5, shuffle=True, generator=generator)
        return [[i for _, y in loader for i in y.tolist()] for _ in range(epochs)]

    first = epoch_orders(42)
    for order in first:
        assert sorted(order) == list(range(13))
    assert first[0] != first[1]
    assert first[0] != list(range(13))
    assert epoch_orders(42) == first
    assert epoch_orders(43) != first


def test_shuffle_uses_global_seed_without_generator():
    dataset = make_dataset(12)
    engine.manual_seed(5)
    first = [i for _, y in DataLoader(dataset, batch_size=4, shuffle=True) for i in y.tolist()]
    engine.manual_seed(5)
    second = [i for _, y in DataLoader(dataset, batch_size=4, shuffle=True) for i in y.tolist()]
    assert first == second and sorted(first) == list(range(12))


def test_generic_dataset_collates_dicts_numbers_and_strings():
    loader = DataLoader(Squares(), batch_size=3)
    batches = list(loader)
    assert len(batches) == 3
    assert tuple(batches[0]["x"].shape) == (3, 2)
    assert batches[0]["x"][:, 0].tolist() == [0.0, 1.0, 2.0]
    assert batches[1]["y"].tolist() == [9, 16, 25] and batches[1]["y"].dtype == engine.int64
    assert batches[2]["name"] == ["6"]


def test_default_collate_structures():
    Point = namedtuple("Point", ["x", "y"])
    batch = default_collate([Point(1.5, 2), Point(2.5, 3)])
    assert isinstance(batch, Point)
    assert batch.x.tolist() == [1.5, 2.5] and batch.x.dtype == engine.float32
    assert batch.y.tolist() == [2, 3]
    nested = default_collate([(engine.zeros(2), [1, 2]), (engine.ones(2), [3, 4])])
    assert isinstance(nested, list) and tuple(nested[0].shape) == (2, 2)
    assert [t.tolist() for t in nested[1]] == [[1, 3], [2, 4]]
    assert default_collate([True, False]).dtype == engine.bool
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError):
        default_collate([object()])


def test_custom_collate_and_no_batching():
    dataset = make_dataset(5)
    loader = DataLoader(dataset, batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(loader) == [2, 2, 1]
    samples = list(DataLoader(dataset, batch_size=None))
    assert len(samples) == 5 and samples[2][1].item() == 2


def test_batch_sampler_argument():
    dataset = make_dataset(6)
    loader = DataLoader(dataset, batch_sampler=[[5, 0], [1, 2, 3]])
    assert [y.tolist() for _, y in loader] == [[5, 0], [1, 2, 3]]
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(dataset, batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(dataset, sampler=[0, 1], shuffle=True)
    with pytest.raises(NotImplementedError, match="num_workers"):
        DataLoader(dataset, num_workers=2)


def test_samplers():
    dataset = make_dataset(7)
    assert list(SequentialSampler(dataset)) == list(range(7))
    sampler = RandomSampler(dataset, generator=engine.Generator().manual_seed(0))
    assert sorted(sampler) == list(range(7)) and len(sampler) == 7
    sampler = RandomSampler(
        dataset, replacement=True, num_samples=20, generator=engine.Generator().manual_seed(0)
    )
    draws = list(sampler)
    assert len(draws) == 20 and all(0 <= i < 7 for i in draws)
    assert len(list(RandomSampler(dataset, num_samples=10))) == 10
    batches = list(BatchSampler(range(7), 3, drop_last=False))
    assert batches == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(BatchSampler(range(7), 3, drop_last=True)) == 2
    with pytest.raises(ValueError):
        BatchSampler(range(7), 0, drop_last=False)


def test_random_split_lengths_and_fractions():
    dataset = make_dataset(10)
    generator = engine.Generator().manual_seed(3)
    train, val = random_split(dataset, [7, 3], generator=generator)
    assert isinstance(train, Subset) and (len(train), len(val)) == (7, 3)
    assert sorted(train.indices + val.indices) == list(range(10))
    again = random_split(dataset, [7, 3], generator=engine.Generator().manual_seed(3))
    assert again[0].indices == train.indices
    parts = random_split(dataset, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = random_split(make_dataset(11), [0.5, 0.5])
    assert [len(p) for p in parts] == [6, 5]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(dataset, [5, 6])


def test_dataloader_over_subset_uses_the_mapped_rows():
    dataset = make_dataset(10)
    subset = Subset(Subset(dataset, [9, 7, 5, 3, 1]), [4, 0, 2])
    assert subset[1][1].item() == 9
    batches = list(DataLoader(subset, batch_size=2))
    assert [y.tolist() for _, y in batches] == [[1, 9], [5]]
    assert batches[0][0].tolist() == [[2.0, 3.0], [18.0, 19.0]]
