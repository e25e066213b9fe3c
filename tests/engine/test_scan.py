"""engine/ops/scan.py: cumsum and cumprod against PyTorch, values and gradients."""

import numpy as np
import pytest
import torch

import engine
from tests.conftest import assert_close, check_grads, randn, to_engine


@pytest.mark.parametrize("shape,dim", [((7,), 0), ((3, 5), 1), ((3, 5), 0), ((2, 3, 4), -2)])
def test_cumsum_values_and_gradients(shape, dim):
    check_grads(lambda t: t.cumsum(dim), lambda t: t.cumsum(dim), randn(*shape))
    check_grads(
        lambda t: engine.cumsum(t, dim=dim), lambda t: torch.cumsum(t, dim=dim), randn(*shape)
    )


@pytest.mark.parametrize("shape,dim", [((6,), 0), ((3, 5), 1), ((2, 3, 4), 1)])
def test_cumprod_values_and_gradients(shape, dim):
    check_grads(lambda t: t.cumprod(dim), lambda t: t.cumprod(dim), randn(*shape), rtol=1e-4)


def test_cumprod_gradient_with_zeros():
    x = randn(3, 6)
    x[0, 2] = 0.0
    x[1, 1] = x[1, 4] = 0.0
    x[2, 5] = 0.0
    check_grads(lambda t: t.cumprod(1), lambda t: t.cumprod(1), x, rtol=1e-4)


def test_cumsum_integer_and_bool_inputs_give_int64():
    x = np.array([[1, -2, 3], [4, 5, -6]], dtype=np.int32)
    assert_close(to_engine(x).cumsum(1), torch.from_numpy(x).cumsum(1))
    m = np.array([True, False, True, True])
    got = to_engine(m).cumsum(0)
    assert got.dtype is engine.int64
    assert_close(got, torch.from_numpy(m).cumsum(0))
    assert_close(
        to_engine(x).cumsum(0, dtype=engine.float32), torch.from_numpy(x).cumsum(0).float()
    )


def test_cumsum_second_derivative():
    x = to_engine(randn(5), requires_grad=True)
    t = torch.from_numpy(x.numpy()).requires_grad_()
    (g,) = engine.autograd.grad((x * x).cumsum(0).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad((t * t).cumsum(0).sum(), t, create_graph=True)
    assert_close(g, gt, rtol=1e-5)
    (gg,) = engine.autograd.grad(g.sum(), x)
    (ggt,) = torch.autograd.grad(gt.sum(), t)
    assert_close(gg, ggt)


def test_scan_of_a_view_and_a_scalar():
    x = randn(4, 6)
    assert_close(to_engine(x).t().cumsum(1), torch.from_numpy(x).t().cumsum(1), rtol=1e-5)
    assert_close(engine.tensor(2.5).cumsum(0), torch.tensor(2.5).cumsum(0))


def test_scan_errors():
    x = to_engine(randn(2, 3))
    with pytest.raises(IndexError):
        x.cumsum(2)
    with pytest.raises(TypeError):
        engine.cumsum(x)
