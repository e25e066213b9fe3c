"""SGD, Adam and AdamW: parameters after several steps match PyTorch on the same gradients."""

import numpy as np
import pytest
import torch

import engine
from engine import optim
from tests.conftest import to_engine


def make_params(seed=0):
    torch.manual_seed(seed)
    theirs = [torch.randn(3, 4, requires_grad=True), torch.randn(5, requires_grad=True)]
    ours = [to_engine(p).requires_grad_() for p in theirs]
    return ours, theirs


def run_both(name, kwargs, steps=5, seed=0):
    ours, theirs = make_params(seed)
    opt_ours = getattr(optim, name)(ours, **kwargs)
    opt_theirs = getattr(torch.optim, name)(theirs, **kwargs)
    torch.manual_seed(seed + 100)
    for _ in range(steps):
        for p_ours, p_theirs in zip(ours, theirs):
            grad = torch.randn(*p_theirs.shape)
            p_theirs.grad = grad.clone()
            p_ours.grad = to_engine(grad)
        opt_ours.step()
        opt_theirs.step()
    return ours, theirs, opt_ours, opt_theirs


def assert_params_close(ours, theirs, rtol=1e-5, atol=1e-6):
    for p_ours, p_theirs in zip(ours, theirs):
        np.testing.assert_allclose(
            np.array(p_ours.tolist()), p_theirs.detach().numpy(), rtol=rtol, atol=atol
        )


SGD_CASES = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.1, "momentum": 0.9, "dampening": 0.5},
    {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1, "nesterov": True, "maximize": True},
    {"lr": 0.05, "maximize": True},
]

ADAM_CASES = [
    {},
    {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "amsgrad": True},
    {"lr": 0.01, "maximize": True, "weight_decay": 0.05, "amsgrad": True},
]


@pytest.mark.parametrize("kwargs", SGD_CASES)
def test_sgd_matches_torch(kwargs):
    ours, theirs, opt_ours, opt_theirs = run_both("SGD", kwargs)
    assert_params_close(ours, theirs)
    if kwargs.get("momentum"):
        for p_ours, p_theirs in zip(ours, theirs):
            np.testing.assert_allclose(
                np.array(opt_ours.state[p_ours]["momentum_buffer"].tolist()),
                opt_theirs.state[p_theirs]["momentum_buffer"].numpy(),
                rtol=1e-5,
                atol=1e-6,
            )
    else:
        assert len(opt_ours.state) == 0


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("kwargs", ADAM_CASES)
def test_adam_family_matches_torch(name, kwargs):
    ours, theirs, opt_ours, opt_theirs = run_both(name, kwargs)
    assert_params_close(ours, theirs)
    state_ours, state_theirs = opt_ours.state[ours[0]], opt_theirs.state[theirs[0]]
    assert list(state_ours) == list(state_theirs)
    assert state_ours["step"] == state_theirs["step"].item() == 5
    for key in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_allclose(
            np.array(state_ours[key].tolist()), state_theirs[key].numpy(), rtol=1e-5, atol=1e-7
        )


def test_adamw_default_weight_decay():
    params = [engine.zeros(2).requires_grad_()]
    assert optim.AdamW(params).defaults["weight_decay"] == 1e-2
    assert optim.Adam(params).defaults["weight_decay"] == 0


def test_params_without_grad_are_skipped():
    ours, _ = make_params()
    before = [p.tolist() for p in ours]
    optimizer = optim.Adam(ours)
    optimizer.step()
    assert [p.tolist() for p in ours] == before and len(optimizer.state) == 0


def test_closure_is_evaluated_with_grad():
    param = engine.ones(2).requires_grad_()
    optimizer = optim.SGD([param], lr=0.5)

    def closure():
        optimizer.zero_grad()
        loss = (param * param).sum()
        loss.backward()
        return loss

    with engine.no_grad():
        loss = optimizer.step(closure)
    assert loss.item() == 2.0
    assert param.tolist() == [0.0, 0.0]


def test_invalid_hyperparameters():
    params = [engine.zeros(2).requires_grad_()]
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD(params, lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(params, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta"):
        optim.Adam(params, betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError):
        optim.SGD(params[0], lr=0.1)
    with pytest.raises(NotImplementedError):
        optim.Adam(params, capturable=True)
