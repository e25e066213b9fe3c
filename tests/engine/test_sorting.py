"""engine/ops/sorting.py: sort, argsort, topk, multinomial against PyTorch."""

import numpy as np
import pytest
import torch

import engine
from tests.conftest import assert_close, check_grads, randn, to_engine


@pytest.mark.parametrize("shape,dim", [((9,), 0), ((3, 7), 1), ((4, 5), 0), ((2, 3, 5), 1)])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_values_indices_and_gradients(shape, dim, descending):
    x = randn(*shape)
    values, indices = to_engine(x).sort(dim, descending=descending)
    ref = torch.from_numpy(x).sort(dim, descending=descending)
    assert_close(values, ref.values)
    assert_close(indices, ref.indices)
    assert_close(engine.argsort(to_engine(x), dim, descending), ref.indices)
    check_grads(
        lambda t: t.sort(dim, descending=descending).values,
        lambda t: t.sort(dim, descending=descending).values,
        x,
    )


def test_sort_ties_are_stable_and_nan_sorts_last():
    x = np.array([2.0, 1.0, 2.0, np.nan, 1.0, 0.0], dtype=np.float32)
    for descending in (False, True):
        got = to_engine(x).sort(descending=descending, stable=True)
        ref = torch.from_numpy(x).sort(descending=descending, stable=True)
        assert_close(got.indices, ref.indices)
        np.testing.assert_array_equal(got.values.numpy(), ref.values.numpy())


def test_sort_integers_and_bools():
    x = np.array([[5, -3, 7, 0, -3]], dtype=np.int32)
    got = to_engine(x).sort(dim=1, stable=True)
    ref = torch.from_numpy(x).sort(dim=1, stable=True)
    assert_close(got.values, ref.values)
    assert_close(got.indices, ref.indices)
    b = np.array([True, False, True])
    assert to_engine(b).sort().values.tolist() == [False, True, True]


@pytest.mark.parametrize("shape,k,dim", [((10,), 3, 0), ((4, 7), 2, 1), ((5, 3), 5, 0)])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_values_indices_and_gradients(shape, k, dim, largest):
    x = randn(*shape)
    got = to_engine(x).topk(k, dim, largest=largest)
    ref = torch.from_numpy(x).topk(k, dim, largest=largest)
    assert_close(got.values, ref.values)
    assert_close(got.indices, ref.indices)
    check_grads(
        lambda t: engine.topk(t, k, dim, largest).values,
        lambda t: torch.topk(t, k, dim, largest).values,
        x,
    )


def test_topk_errors():
    x = to_engine(randn(3, 4))
    with pytest.raises(RuntimeError, match="k out of range"):
        x.topk(5)
    with pytest.raises(IndexError):
        x.sort(2)


def test_multinomial_with_replacement_follows_the_weights():
    w = engine.tensor([[0.0, 1.0, 0.0, 3.0], [2.0, 0.0, 2.0, 0.0]])
    draws = engine.multinomial(w, 4000, replacement=True)
    assert tuple(draws.shape) == (2, 4000) and draws.dtype is engine.int64
    counts = np.stack([np.bincount(r, minlength=4) for r in draws.numpy()])
    assert counts[0, 0] == counts[0, 2] == counts[1, 1] == counts[1, 3] == 0
    assert abs(counts[0, 3] / 4000 - 0.75) < 0.04
    assert abs(counts[1, 0] / 4000 - 0.5) < 0.04


def test_multinomial_without_replacement_draws_distinct_categories():
    w = engine.tensor([1.0, 0.0, 5.0, 2.0, 0.5])
    for _ in range(3):
        draws = w.multinomial(4).tolist()
        assert len(set(draws)) == 4 and 1 not in draws
    # the first draw follows the weights
    first = engine.multinomial(w.expand(2000, 5).contiguous(), 1).numpy()[:, 0]
    assert abs(np.mean(first == 2) - 5 / 8.5) < 0.05


def test_multinomial_is_seeded():
    w = engine.tensor([0.2, 0.3, 0.5])
    engine.manual_seed(3)
    a = engine.multinomial(w, 10, True).tolist()
    engine.manual_seed(3)
    assert engine.multinomial(w, 10, True).tolist() == a
    g = engine.Generator().manual_seed(3)
    assert engine.multinomial(w, 10, True, generator=g).tolist() == a


def test_multinomial_errors():
    w = engine.tensor([0.5, 0.5])
    with pytest.raises(RuntimeError, match="without replacement"):
        engine.multinomial(w, 3)
    with pytest.raises(RuntimeError, match="1 or 2 dim"):
        engine.multinomial(engine.ones(2, 2, 2), 1)
    with pytest.raises(RuntimeError, match="n_sample <= 0"):
        engine.multinomial(w, 0)
