"""Shared helpers: every engine result is compared with PyTorch (CPU) on the same data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine

RTOL = 1e-5


@pytest.fixture(autouse=True)
def _seed():
    engine.manual_seed(0)
    torch.manual_seed(0)
    np.random.seed(0)


def to_engine(array, requires_grad=False, dtype=None):
    """An engine tensor holding a NumPy array (or a torch tensor)."""
    if isinstance(array, torch.Tensor):
        array = array.detach().numpy()
    t = engine.from_numpy(np.asarray(array), dtype=dtype)
    return t.requires_grad_() if requires_grad else t


def to_torch(array, requires_grad=False):
    t = torch.from_numpy(np.array(array, copy=True))
    return t.requires_grad_() if requires_grad else t


def assert_close(actual, expected, rtol=RTOL, atol=1e-6):
    """Compare an engine tensor with a torch tensor / NumPy array: values, shape, dtype kind."""
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    expected = np.asarray(expected)
    got = actual.numpy() if isinstance(actual, engine.Tensor) else np.asarray(actual)
    assert tuple(got.shape) == tuple(expected.shape), f"shape {got.shape} != {expected.shape}"
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
    else:
        np.testing.assert_array_equal(got, expected.astype(got.dtype))


def randn(*shape, low=None):
    """float32 normal samples (shifted to be positive when `low` is given)."""
    x = np.asarray(np.random.randn(*shape), dtype=np.float32)
    if low is not None:
        x = np.abs(x) + low
    return x


def check_grads(fn_engine, fn_torch, *arrays, rtol=1e-5, atol=1e-6):
    """Compare forward values and the gradients of every input with PyTorch.

    A random upstream gradient is used so that a wrong rule cannot hide behind ones.
    """
    xs = [to_engine(a, requires_grad=True) for a in arrays]
    ts = [to_torch(a, requires_grad=True) for a in arrays]
    out = fn_engine(*xs)
    ref = fn_torch(*ts)
    assert_close(out, ref, rtol=rtol, atol=atol)
    upstream = randn(*ref.shape)
    out.backward(to_engine(upstream))
    ref.backward(torch.from_numpy(upstream))
    for x, t in zip(xs, ts, strict=True):
        assert x.grad is not None, "no gradient reached an input"
        assert_close(x.grad, t.grad, rtol=rtol, atol=atol)


def compare_layer(ours, theirs, shape, seed=0):
    """Same weights, same input: same output, same input and parameter gradients."""
    torch.manual_seed(seed)
    ours.load_state_dict({k: to_engine(v) for k, v in theirs.state_dict().items()})
    x_theirs = torch.randn(*shape, requires_grad=True)
    x_ours = to_engine(x_theirs).requires_grad_()
    out_theirs = theirs(x_theirs)
    out_ours = ours(x_ours)
    assert tuple(out_ours.shape) == tuple(out_theirs.shape)
    assert_close(out_ours, out_theirs)
    upstream = torch.randn(out_theirs.shape)
    (out_theirs * upstream).sum().backward()
    (out_ours * to_engine(upstream)).sum().backward()
    assert_close(x_ours.grad, x_theirs.grad)
    for ours_param, their_param in zip(ours.parameters(), theirs.parameters()):
        assert_close(ours_param.grad, their_param.grad)
