"""engine/ops/creation.py: construction from Python data and NumPy, fills, ranges, random."""

import math

import numpy as np
import pytest
import torch

import engine
from tests.conftest import assert_close


def test_tensor_from_nested_lists_infers_dtype():
    assert engine.tensor([[1, 2], [3, 4]]).dtype is engine.int64
    assert engine.tensor([1, 2.5]).dtype is engine.float32
    assert engine.tensor([True, False]).dtype is engine.bool
    assert engine.tensor(3.5).shape == ()
    assert engine.tensor([]).shape == (0,)
    assert engine.tensor([[1, 2], [3, 4]], dtype=engine.float32).tolist() == [
        [1.0, 2.0],
        [3.0, 4.0],
    ]
    with pytest.raises(ValueError, match="ragged"):
        engine.tensor([[1, 2], [3]])
    with pytest.raises(OverflowError, match="int32"):
        engine.tensor([2**40])


def test_round_trips_through_python_and_numpy():
    data = [[1.5, -2.0, 3.25], [0.0, 1e-8, -7.5]]
    t = engine.tensor(data)
    assert t.tolist() == [[1.5, -2.0, 3.25], [0.0, pytest.approx(1e-8), -7.5]]
    arr = np.random.randn(3, 4).astype(np.float32)
    assert_close(engine.from_numpy(arr), arr)
    assert engine.from_numpy(np.arange(6).reshape(2, 3)).dtype is engine.int64
    assert engine.from_numpy(np.array([True, False])).tolist() == [True, False]
    assert engine.tensor(np.float32(2.5)).item() == 2.5
    assert engine.tensor([7]).item() == 7
    raw = np.arange(5, dtype=np.float32).tobytes()
    assert engine.frombuffer(raw, dtype=engine.float32).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert engine.frombuffer(bytes([1, 0, 1]), dtype=engine.bool).tolist() == [True, False, True]
    assert engine.tensor([True, False, True])._tobytes() == bytes([1, 0, 1])


def test_fills():
    assert_close(engine.zeros(2, 3), np.zeros((2, 3)))
    assert_close(engine.ones((2, 3)), np.ones((2, 3)))
    assert_close(engine.full((2,), 7), np.full(2, 7))
    assert engine.full((2,), 7).dtype is engine.int64
    assert engine.full((2,), 7.0).dtype is engine.float32
    x = engine.randn(3, 2)
    assert engine.zeros_like(x).tolist() == [[0.0, 0.0]] * 3
    assert engine.ones_like(x, dtype=engine.int32).dtype is engine.int32
    assert engine.full_like(x, 2.5).tolist() == [[2.5, 2.5]] * 3
    assert engine.empty(4, 5).shape == (4, 5)
    with pytest.raises(RuntimeError, match="negative dimension"):
        engine.zeros(-1)


@pytest.mark.parametrize(
    "args", [(5,), (2, 9), (1, 10, 3), (0.0, 1.0, 0.1), (-3, 3, 0.5), (10, 0, -2)]
)
def test_arange(args):
    assert_close(engine.arange(*args), torch.arange(*args))


@pytest.mark.parametrize("args", [(0, 1, 5), (-2.5, 7.0, 11), (3, 3, 4), (0, 1, 1), (1, 0, 2)])
def test_linspace(args):
    assert_close(engine.linspace(*args), torch.linspace(*args))


def test_eye():
    assert_close(engine.eye(3), torch.eye(3))
    assert_close(engine.eye(2, 4), torch.eye(2, 4))


def test_random_is_seeded_and_reproducible():
    engine.manual_seed(123)
    a = engine.rand(1000).tolist()
    engine.manual_seed(123)
    b = engine.rand(1000).tolist()
    assert a == b
    assert engine.rand(1000).tolist() != a  # the generator advanced
    g = engine.Generator().manual_seed(5)
    c = engine.randn(10, generator=g).tolist()
    assert engine.randn(10, generator=engine.Generator().manual_seed(5)).tolist() == c


def test_random_distributions_have_the_right_statistics():
    n = 200_000
    u = engine.rand(n).numpy()
    assert 0.0 <= u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.std() - math.sqrt(1 / 12)) < 0.01
    z = engine.randn(n).numpy()
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    r = engine.randint(3, 8, (n,)).numpy()
    assert r.min() == 3 and r.max() == 7
    assert np.all(np.abs(np.bincount(r)[3:] / n - 0.2) < 0.01)
    x = engine.empty(n).uniform_(-2, 3).numpy()
    assert -2 <= x.min() and x.max() < 3 and abs(x.mean() - 0.5) < 0.02
    y = engine.empty(n).normal_(1.5, 0.5).numpy()
    assert abs(y.mean() - 1.5) < 0.01 and abs(y.std() - 0.5) < 0.01
    p = engine.bernoulli(engine.full((n,), 0.3)).numpy()
    assert set(np.unique(p)) <= {0.0, 1.0} and abs(p.mean() - 0.3) < 0.01


def test_normals_are_box_muller_of_the_uniforms_to_float32_rounding():
    """randn is Box-Muller on the words rand turns into uniforms (same seed, same counter):
    (u0, u1, u2, u3) -> r(u0) (cos, sin)(2 pi u1), r(u2) (cos, sin)(2 pi u3). The shader's own
    log and cos/sin must be as accurate as float32 allows, on every adapter."""
    n = 1 << 16
    engine.manual_seed(11)
    u = engine.rand(4 * n).numpy().astype(np.float64).reshape(n, 4)
    engine.manual_seed(11)
    z = engine.randn(4 * n).numpy().astype(np.float64).reshape(n, 4)
    r0, r2 = (np.sqrt(-2 * np.log(u[:, i] + 2.0**-24)) for i in (0, 2))
    t1, t3 = (2 * np.pi * u[:, i] for i in (1, 3))
    expected = np.stack([r0 * np.cos(t1), r0 * np.sin(t1), r2 * np.cos(t3), r2 * np.sin(t3)], 1)
    assert np.abs(z - expected).max() < 2e-6


def test_randperm_is_a_seeded_permutation():
    g = engine.Generator().manual_seed(7)
    p = engine.randperm(50, generator=g).tolist()
    assert sorted(p) == list(range(50)) and p != list(range(50))
    assert engine.randperm(50, generator=engine.Generator().manual_seed(7)).tolist() == p


def test_random_fill_of_a_view():
    x = engine.zeros(4, 6)
    x[:, 2:4].uniform_(5, 6)
    values = x.numpy()
    assert np.all(values[:, 2:4] >= 5) and np.all(values[:, :2] == 0) and np.all(values[:, 4:] == 0)
