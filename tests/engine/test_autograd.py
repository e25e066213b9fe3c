"""engine/autograd.py: graph building, accumulation, modes, retain_grad, autograd.grad."""

import numpy as np
import pytest
import torch

import engine
from tests.conftest import assert_close, randn, to_engine, to_torch


def test_gradient_accumulates_over_repeated_uses_and_calls():
    a = randn(3)
    x, t = to_engine(a, requires_grad=True), to_torch(a, requires_grad=True)
    (x * x + x.exp() * x).sum().backward()
    (t * t + t.exp() * t).sum().backward()
    assert_close(x.grad, t.grad, rtol=1e-5)
    (x * 3).sum().backward()
    (t * 3).sum().backward()
    assert_close(x.grad, t.grad, rtol=1e-5)


def test_diamond_graph():
    a = randn(4)
    x, t = to_engine(a, requires_grad=True), to_torch(a, requires_grad=True)
    y = x.sigmoid()
    (y * y.tanh() + y.sum()).sum().backward()
    ty = t.sigmoid()
    (ty * ty.tanh() + ty.sum()).sum().backward()
    assert_close(x.grad, t.grad, rtol=1e-5)


def test_finite_differences_on_a_composite_function():
    a = randn(2, 3).astype(np.float64)

    def f(x):
        return ((x @ x.t()).softmax(1) * x.sum(1, keepdim=True)).log_softmax(0).mean()

    x = to_engine(a.astype(np.float32), requires_grad=True)
    f(x).backward()
    eps = 1e-2
    numeric = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        plus, minus = a.copy(), a.copy()
        plus[i] += eps
        minus[i] -= eps
        fp = f(to_engine(plus.astype(np.float32))).item()
        fm = f(to_engine(minus.astype(np.float32))).item()
        numeric[i] = (fp - fm) / (2 * eps)
    np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=2e-2, atol=2e-3)


def test_no_grad_enable_grad_set_grad_enabled():
    x = engine.ones(2, requires_grad=True)
    with engine.no_grad():
        y = x * 2
        with engine.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad
    with engine.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert engine.is_grad_enabled()

    @engine.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad


def test_detach_and_requires_grad_rules():
    x = engine.ones(2, requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        engine.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="does not require grad"):
        engine.ones(2).sum().backward()
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2).backward()


def test_backward_with_gradient_argument():
    a = randn(3, 2)
    g = randn(3, 2)
    x, t = to_engine(a, requires_grad=True), to_torch(a, requires_grad=True)
    (x * x).backward(to_engine(g))
    (t * t).backward(torch.from_numpy(g))
    assert_close(x.grad, t.grad)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * x).backward(engine.ones(2, 3))


def test_retain_grad_and_second_backward():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    z = (y * y).sum()
    z.backward(retain_graph=True)
    assert y.grad.tolist() == [6.0, 12.0]
    assert x.grad.tolist() == [18.0, 36.0]
    z.backward()
    assert x.grad.tolist() == [36.0, 72.0]
    with pytest.raises(RuntimeError, match="second time"):
        z.backward()


def test_autograd_grad_does_not_touch_dot_grad():
    x = engine.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = engine.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = (x * w).sum()
    gx, gw = engine.autograd.grad(y, [x, w])
    assert gx.tolist() == [0.5, -1.0, 2.0] and gw.tolist() == [1.0, 2.0, 3.0]
    assert x.grad is None and w.grad is None
    with pytest.raises(RuntimeError, match="not have been used"):
        engine.autograd.grad((x * 2).sum(), [x, w])
    (gx_only, unused) = engine.autograd.grad((x * 2).sum(), [x, w], allow_unused=True)
    assert unused is None and gx_only.tolist() == [2.0, 2.0, 2.0]


def test_second_order_gradient_with_create_graph():
    a = randn(4)
    x, t = to_engine(a, requires_grad=True), to_torch(a, requires_grad=True)
    (gx,) = engine.autograd.grad((x**3).sum(), [x], create_graph=True)
    (tx,) = torch.autograd.grad((t**3).sum(), [t], create_graph=True)
    gx.sum().backward()
    tx.sum().backward()
    assert_close(x.grad, t.grad, rtol=1e-4)


def test_autograd_grad_differentiates_only_what_leads_to_its_inputs():
    def refusing(g, o):
        raise AssertionError("a backward that leads to no input was run")

    w = engine.tensor([1.0, 2.0], requires_grad=True)
    hidden = engine.autograd.record(w * 1.0, "Refusing", (w,), refusing)
    x = hidden * 3.0  # a non-leaf input: its own backward is not needed
    y = (x * x).sum()
    (gx,) = engine.autograd.grad(y, [x], retain_graph=True)
    assert gx.tolist() == [6.0, 12.0]
    z = engine.tensor([0.5, 0.5], requires_grad=True)
    (gz,) = engine.autograd.grad((x * z).sum() + y, [z])
    assert gz.tolist() == [3.0, 6.0]
    with pytest.raises(AssertionError, match="leads to no input"):
        y.backward()


def test_grad_of_non_leaf_is_not_stored_and_leaf_grad_is_owned():
    x = engine.ones(3, requires_grad=True)
    y = x + 0
    (y + y).sum().backward()
    assert y.grad is None
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    a = engine.ones(2, requires_grad=True)
    b = engine.ones(2, requires_grad=True)
    (a + b).sum().backward()
    a.grad.add_(1)  # must not change b.grad through shared storage
    assert b.grad.tolist() == [1.0, 1.0]


def test_grad_fn_names():
    x = engine.ones(2, requires_grad=True)
    assert (x * 2).grad_fn.name == "MulBackward0"
    assert "grad_fn=<MulBackward0>" in repr(x * 2)


def test_set_grad_enabled_as_call_and_decorator():
    engine.set_grad_enabled(False)
    assert not engine.is_grad_enabled()
    engine.set_grad_enabled(True)

    @engine.set_grad_enabled(False)
    def f(t):
        assert not engine.is_grad_enabled()
        return t * 2

    assert engine.is_grad_enabled()  # decorating changed nothing outside f
    assert not f(engine.ones(1, requires_grad=True)).requires_grad
    assert engine.is_grad_enabled()
