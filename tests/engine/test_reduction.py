"""engine/ops/reduction.py against PyTorch: every dim set, keepdim, views, gradients."""

import numpy as np
import pytest
import torch

import engine
from tests.conftest import assert_close, check_grads, randn, to_engine, to_torch

DIMS = [None, 0, 1, -1, (0, 2), (1, 2), (0, 1, 2)]


@pytest.fixture(autouse=True, params=["serial", "workgroup"])
def variant(request, monkeypatch):
    """Run every test with both reduction kernels: one thread per output (CPU adapters,
    many outputs) and one workgroup per output (GPUs, long reductions)."""
    monkeypatch.setattr(engine.ops.launch, "force_reduce_variant", request.param)
    return request.param


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_mean(name, dim, keepdim):
    x = randn(3, 4, 5)
    if dim is None:
        fn = lambda t: getattr(t, name)()  # noqa: E731
    else:
        fn = lambda t: getattr(t, name)(dim, keepdim=keepdim)  # noqa: E731
    check_grads(fn, fn, x)


def test_reduction_of_non_contiguous_views():
    x = randn(6, 8)
    check_grads(lambda t: t.t()[::2].sum(1), lambda t: t.t()[::2].sum(1), x)
    check_grads(lambda t: t[:, 1:].mean(0), lambda t: t[:, 1:].mean(0), x)
    check_grads(lambda t: t.expand(3, 6, 8).sum((0, 2)), lambda t: t.expand(3, 6, 8).sum((0, 2)), x)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim(name, dim, keepdim):
    x = randn(4, 5, 3)
    values, indices = getattr(to_engine(x), name)(dim, keepdim=keepdim)
    ref = getattr(to_torch(x), name)(dim, keepdim=keepdim)
    assert_close(values, ref.values)
    assert_close(indices, ref.indices)
    check_grads(
        lambda t: getattr(t, name)(dim, keepdim=keepdim)[0],
        lambda t: getattr(t, name)(dim, keepdim=keepdim)[0],
        x,
    )


def test_full_max_min_argmax_argmin():
    x = randn(5, 7)
    check_grads(lambda t: t.max(), lambda t: t.max(), x)
    check_grads(lambda t: t.min(), lambda t: t.min(), x)
    assert_close(to_engine(x).argmax(), to_torch(x).argmax())
    assert_close(to_engine(x).argmin(1), to_torch(x).argmin(1))
    assert_close(to_engine(x).argmax(0, keepdim=True), to_torch(x).argmax(0, keepdim=True))


def test_ties_share_gradient_like_pytorch():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], np.float32)
    check_grads(lambda t: t.amax(1), lambda t: t.amax(1), x)
    check_grads(lambda t: t.max(), lambda t: t.max(), x)


def test_integer_and_bool_reductions():
    x = np.array([[1, -2, 3], [4, 5, -6]], np.int32)
    e, t = to_engine(x), torch.from_numpy(x)
    assert_close(e.sum(), t.sum())
    assert_close(e.sum(0), t.sum(0))
    assert_close(e.max(1).values, t.max(1).values)
    assert_close(e.prod(1), t.prod(1))
    assert_close((e > 0).all(1), (t > 0).all(1))
    assert_close((e > 0).any(0), (t > 0).any(0))
    assert_close((e > 0).sum(), (t > 0).sum())
    with pytest.raises(RuntimeError, match="mean"):
        e.mean()


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("correction", [0, 1])
def test_var_std(dim, correction):
    x = randn(4, 6)
    check_grads(
        lambda t: t.var(dim, correction=correction), lambda t: t.var(dim, correction=correction), x
    )
    check_grads(
        lambda t: t.std(dim, correction=correction), lambda t: t.std(dim, correction=correction), x
    )
    check_grads(lambda t: t.var(1, unbiased=False), lambda t: t.var(1, unbiased=False), x)


def test_prod():
    x = randn(3, 4, low=0.5)
    check_grads(lambda t: t.prod(1), lambda t: t.prod(1), x)
    check_grads(lambda t: t.prod(), lambda t: t.prod(), x)


def test_prod_backward_with_zeros():
    # Rows with no zero, one zero, and two zeros: each case has its own gradient rule.
    x = randn(4, 5, low=0.5)
    x[1, 2] = 0.0
    x[2, 0] = x[2, 3] = 0.0
    x[3, 4] = 0.0
    check_grads(lambda t: t.prod(1), lambda t: t.prod(1), x)
    check_grads(lambda t: t.prod(0, keepdim=True), lambda t: t.prod(0, keepdim=True), x)
    check_grads(lambda t: t.prod(), lambda t: t.prod(), x)
    check_grads(lambda t: t[1].prod(), lambda t: t[1].prod(), x)  # the only zero of the slice


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_log_softmax_logsumexp(dim):
    x = randn(4, 6) * 3
    check_grads(lambda t: t.softmax(dim), lambda t: t.softmax(dim), x)
    check_grads(lambda t: t.log_softmax(dim), lambda t: t.log_softmax(dim), x)
    check_grads(lambda t: t.logsumexp(dim), lambda t: t.logsumexp(dim), x)
    check_grads(lambda t: engine.logsumexp(t, (0, 1)), lambda t: torch.logsumexp(t, (0, 1)), x)


def test_softmax_is_stable_for_large_inputs():
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1000.0]], np.float32)
    assert_close(to_engine(x).softmax(1), to_torch(x).softmax(1))
    assert_close(to_engine(x).log_softmax(1), to_torch(x).log_softmax(1), atol=1e-4)
    assert_close(to_engine(x).logsumexp(1), to_torch(x).logsumexp(1))


def test_norm():
    x = randn(3, 5)
    check_grads(lambda t: t.norm(), lambda t: t.norm(), x)
    check_grads(lambda t: t.norm(1, dim=1), lambda t: t.norm(1, dim=1), x)


def test_empty_and_bad_reductions():
    assert engine.zeros(0, 3).sum().item() == 0
    assert_close(engine.zeros(0, 3).sum(0), np.zeros(3, np.float32))
    with pytest.raises(RuntimeError):
        engine.zeros(0, 3).max(0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        engine.zeros(2, 3).sum(2)


def test_long_reduction():
    x = randn(3, 20000)
    assert_close(to_engine(x).sum(1), to_torch(x).sum(1), rtol=1e-4, atol=1e-3)


def test_prod_second_order_gradient():
    x = randn(3, 4, low=0.5)
    x[1, 1] = 0.0
    e, t = to_engine(x, requires_grad=True), to_torch(x, requires_grad=True)
    (ge,) = engine.autograd.grad(e.prod(1).sum(), [e], create_graph=True)
    (gt,) = torch.autograd.grad(t.prod(1).sum(), [t], create_graph=True)
    assert_close(ge, gt)
    (ge * ge).sum().backward()
    (gt * gt).sum().backward()
    assert_close(e.grad, t.grad, rtol=1e-4, atol=1e-5)
