"""engine/ops/rearrange.py: flip, roll, repeat_interleave, tril, triu against PyTorch."""

import numpy as np
import pytest
import torch

import engine
from tests.conftest import assert_close, check_grads, randn, to_engine


@pytest.mark.parametrize("dims", [0, (1,), (0, 2), (-1,)])
def test_flip(dims):
    check_grads(lambda t: t.flip(dims), lambda t: t.flip(dims), randn(3, 4, 5))


def test_fliplr_flipud():
    check_grads(engine.fliplr, torch.fliplr, randn(3, 4))
    check_grads(engine.flipud, torch.flipud, randn(3, 4))


@pytest.mark.parametrize(
    "shifts,dims", [(1, 0), (-2, 1), (7, 1), ((1, 2), (0, 1)), (3, None), (0, 0)]
)
def test_roll(shifts, dims):
    check_grads(lambda t: t.roll(shifts, dims), lambda t: t.roll(shifts, dims), randn(3, 5))


def test_roll_errors():
    with pytest.raises(RuntimeError, match="must align"):
        to_engine(randn(3, 5)).roll((1, 2), 0)


@pytest.mark.parametrize("repeats,dim", [(2, 0), (3, 1), (2, None), (0, 1)])
def test_repeat_interleave_int(repeats, dim):
    check_grads(
        lambda t: t.repeat_interleave(repeats, dim),
        lambda t: t.repeat_interleave(repeats, dim),
        randn(2, 3),
    )


def test_repeat_interleave_tensor_repeats():
    counts = np.array([1, 0, 3], dtype=np.int32)
    check_grads(
        lambda t: t.repeat_interleave(engine.tensor(counts), dim=1),
        lambda t: t.repeat_interleave(torch.from_numpy(counts).long(), dim=1),
        randn(2, 3),
    )
    assert_close(
        engine.repeat_interleave(engine.tensor(counts)),
        torch.repeat_interleave(torch.from_numpy(counts).long()),
    )
    with pytest.raises(RuntimeError, match="same size as input along dim"):
        to_engine(randn(2, 4)).repeat_interleave(engine.tensor(counts), dim=1)


@pytest.mark.parametrize("diagonal", [0, 1, -1, 5, -5])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (2, 5, 3)])
def test_tril_triu(shape, diagonal):
    check_grads(lambda t: t.tril(diagonal), lambda t: t.tril(diagonal), randn(*shape))
    check_grads(
        lambda t: engine.triu(t, diagonal), lambda t: torch.triu(t, diagonal), randn(*shape)
    )


def test_tril_of_bools_and_ints_and_errors():
    m = engine.ones(3, 3, dtype=engine.bool).tril()
    assert m.dtype is engine.bool
    assert_close(m, torch.ones(3, 3, dtype=torch.bool).tril())
    assert_close(
        engine.ones(2, 3, dtype=engine.int32).triu(), torch.ones(2, 3, dtype=torch.int32).triu()
    )
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        engine.ones(3).tril()
