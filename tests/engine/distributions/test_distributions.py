"""engine.distributions against torch.distributions: log_prob, entropy, sampling, grads."""

import numpy as np
import pytest
import torch

import engine
from engine import distributions as D
from tests.conftest import assert_close, randn, to_engine


def test_categorical_probs_and_logits():
    logits = randn(3, 5)
    value = np.array([0, 4, 2], dtype=np.int64)
    le, lt = to_engine(logits, requires_grad=True), torch.from_numpy(logits).requires_grad_()
    ours, theirs = D.Categorical(logits=le), torch.distributions.Categorical(logits=lt)
    assert_close(ours.probs, theirs.probs, rtol=1e-5)
    assert_close(ours.logits, theirs.logits, rtol=1e-5)
    lp_e, lp_t = (
        ours.log_prob(engine.tensor(value.tolist())),
        theirs.log_prob(torch.from_numpy(value)),
    )
    assert_close(lp_e, lp_t, rtol=1e-5)
    assert_close(ours.entropy(), theirs.entropy(), rtol=1e-5)
    (lp_e.sum() + ours.entropy().sum()).backward()
    (lp_t.sum() + theirs.entropy().sum()).backward()
    assert_close(le.grad, lt.grad, rtol=1e-4, atol=1e-6)
    assert tuple(ours.batch_shape) == (3,) and tuple(ours.event_shape) == ()
    assert_close(ours.mode, theirs.mode)

    probs = np.abs(randn(2, 4)) + 0.1
    probs[0, 1] = 0.0
    ours, theirs = (
        D.Categorical(probs=to_engine(probs)),
        torch.distributions.Categorical(probs=torch.from_numpy(probs)),
    )
    assert_close(ours.probs, theirs.probs, rtol=1e-5)
    assert_close(ours.entropy(), theirs.entropy(), rtol=1e-5)
    assert_close(
        ours.log_prob(engine.tensor([2, 3])), theirs.log_prob(torch.tensor([2, 3])), rtol=1e-5
    )


def test_categorical_sample_shape_and_frequencies():
    probs = engine.tensor([[0.1, 0.0, 0.9], [0.5, 0.5, 0.0]])
    d = D.Categorical(probs=probs)
    s = d.sample((3000,))
    assert tuple(s.shape) == (3000, 2) and s.dtype is engine.int64
    s = s.numpy()
    assert not (s[:, 0] == 1).any() and not (s[:, 1] == 2).any()
    assert abs((s[:, 0] == 2).mean() - 0.9) < 0.03
    assert tuple(d.sample().shape) == (2,)
    with pytest.raises(ValueError, match="not both"):
        D.Categorical(probs=probs, logits=probs)


def test_normal():
    loc, scale = randn(4), np.abs(randn(4)) + 0.5
    x = randn(4)
    le, se = to_engine(loc, True), to_engine(scale, True)
    lt, st = torch.from_numpy(loc).requires_grad_(), torch.from_numpy(scale).requires_grad_()
    ours, theirs = D.Normal(le, se), torch.distributions.Normal(lt, st)
    lp_e, lp_t = ours.log_prob(to_engine(x)), theirs.log_prob(torch.from_numpy(x))
    assert_close(lp_e, lp_t, rtol=1e-5)
    assert_close(ours.entropy(), theirs.entropy(), rtol=1e-5)
    assert_close(ours.cdf(to_engine(x)), theirs.cdf(torch.from_numpy(x)), rtol=1e-4, atol=1e-6)
    (lp_e.sum() + ours.entropy().sum()).backward()
    (lp_t.sum() + theirs.entropy().sum()).backward()
    assert_close(le.grad, lt.grad, rtol=1e-5)
    assert_close(se.grad, st.grad, rtol=1e-5)
    s = D.Normal(0.0, 2.0).sample((20000,)).numpy()
    assert abs(s.std() - 2.0) < 0.05 and abs(s.mean()) < 0.05
    r = ours.rsample((3,))
    assert tuple(r.shape) == (3, 4) and r.requires_grad
    assert not ours.sample((3,)).requires_grad


def test_bernoulli():
    logits = randn(5)
    x = np.array([0, 1, 1, 0, 1], dtype=np.float32)
    ours, theirs = (
        D.Bernoulli(logits=to_engine(logits)),
        torch.distributions.Bernoulli(logits=torch.from_numpy(logits)),
    )
    assert_close(ours.probs, theirs.probs, rtol=1e-5)
    assert_close(ours.log_prob(to_engine(x)), theirs.log_prob(torch.from_numpy(x)), rtol=1e-5)
    assert_close(ours.entropy(), theirs.entropy(), rtol=1e-5)
    probs = np.array([0.2, 0.9], dtype=np.float32)
    ours, theirs = (
        D.Bernoulli(probs=to_engine(probs)),
        torch.distributions.Bernoulli(probs=torch.from_numpy(probs)),
    )
    assert_close(ours.logits, theirs.logits, rtol=1e-5)
    s = ours.sample((4000,)).numpy()
    assert s.shape == (4000, 2) and set(np.unique(s)) <= {0.0, 1.0}
    assert abs(s[:, 1].mean() - 0.9) < 0.03


def test_uniform():
    low, high = np.array([0.0, -1.0], dtype=np.float32), np.array([2.0, 3.0], dtype=np.float32)
    x = np.array([1.0, 5.0], dtype=np.float32)
    ours = D.Uniform(to_engine(low), to_engine(high))
    theirs = torch.distributions.Uniform(
        torch.from_numpy(low), torch.from_numpy(high), validate_args=False
    )
    assert_close(ours.log_prob(to_engine(x)), theirs.log_prob(torch.from_numpy(x)))
    assert_close(ours.entropy(), theirs.entropy())
    assert_close(ours.mean, theirs.mean)
    assert_close(ours.variance, theirs.variance)
    s = ours.sample((2000,)).numpy()
    assert (s >= low).all() and (s < high).all()
    assert abs(s[:, 1].mean() - 1.0) < 0.1
