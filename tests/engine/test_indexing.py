"""engine/ops/indexing.py against PyTorch: gather, scatter_add, index_select, bounds."""

import numpy as np
import pytest
import torch

import engine
from tests.conftest import assert_close, check_grads, randn, to_engine, to_torch


def _index(shape, high):
    return np.random.randint(0, high, size=shape).astype(np.int64)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather(dim):
    x = randn(4, 5)
    idx = _index((3, 4) if dim == 0 else (4, 3), x.shape[dim])
    check_grads(
        lambda t: t.gather(dim, to_engine(idx.astype(np.int32))),
        lambda t: t.gather(dim, torch.from_numpy(idx)),
        x,
    )


@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_add(dim):
    x, src = randn(4, 5), randn(4, 5)
    idx = _index((4, 5), x.shape[dim])
    check_grads(
        lambda t, s: t.scatter_add(dim, to_engine(idx.astype(np.int32)), s),
        lambda t, s: t.scatter_add(dim, torch.from_numpy(idx), s),
        x,
        src,
    )


def test_scatter_add_accumulates_many_collisions():
    src = np.ones((1, 1000), np.float32)
    idx = np.zeros((1, 1000), np.int64)
    out = engine.zeros(1, 3).scatter_add(1, to_engine(idx.astype(np.int32)), to_engine(src))
    assert out.tolist() == [[1000.0, 0.0, 0.0]]
    ints = engine.zeros(4, dtype=engine.int64).scatter_add(
        0, engine.tensor([1, 1, 3]), engine.tensor([5, 6, 7])
    )
    assert ints.tolist() == [0, 11, 0, 7]


@pytest.mark.parametrize("dim", [0, 1])
def test_index_select(dim):
    x = randn(5, 6)
    idx = np.array([4, 0, 4, 2], np.int64)
    check_grads(
        lambda t: t.index_select(dim, to_engine(idx.astype(np.int32))),
        lambda t: t.index_select(dim, torch.from_numpy(idx)),
        x,
    )


def test_negative_indices_and_out_of_range_detection():
    x = to_engine(randn(4, 3))
    assert_close(x.index_select(0, engine.tensor([-1])), x.numpy()[[-1]])
    bad = x.index_select(0, engine.tensor([4]))
    with pytest.raises(IndexError, match="out of range"):
        bad.tolist()
    assert x.sum().item() == pytest.approx(float(x.numpy().sum()), rel=1e-5)  # device still fine


def test_index_dtype_errors():
    x = to_engine(randn(4, 3))
    with pytest.raises(RuntimeError, match="int64"):
        x.gather(0, engine.tensor([[0.0, 1.0, 2.0]]))
    with pytest.raises(IndexError, match="long, int, byte or bool"):
        x[engine.tensor([0.0])]


def test_nonzero_and_masked_select():
    x = randn(3, 4)
    assert_close(engine.nonzero(to_engine(x) > 0), torch.nonzero(to_torch(x) > 0))
    assert_close(
        engine.masked_select(to_engine(x), to_engine(x) > 0),
        torch.masked_select(to_torch(x), to_torch(x) > 0),
    )
