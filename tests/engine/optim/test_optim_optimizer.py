"""Optimizer base: param groups, zero_grad, state_dict / load_state_dict in PyTorch's format."""

import numpy as np
import pytest
import torch

import engine
from engine import nn, optim
from tests.conftest import to_engine


def set_grads(params, seed):
    torch.manual_seed(seed)
    for p in params:
        p.grad = to_engine(torch.randn(*p.shape))


def test_param_groups_and_defaults():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    optimizer = optim.SGD(
        [{"params": model[0].parameters()}, {"params": model[1].parameters(), "lr": 0.5}],
        lr=0.1,
        momentum=0.9,
    )
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.5]
    assert all(g["momentum"] == 0.9 for g in optimizer.param_groups)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optimizer.add_param_group({"params": [model[0].weight]})
    extra = nn.Parameter(engine.zeros(2))
    optimizer.add_param_group({"params": extra, "lr": 1.0})
    assert optimizer.param_groups[-1]["params"] == [extra]
    assert "Parameter Group 2" in repr(optimizer)
    with pytest.raises(TypeError, match="ordered collections"):
        optimizer.add_param_group({"params": {nn.Parameter(engine.zeros(1))}})


def test_named_parameters_are_accepted():
    model = nn.Linear(2, 2)
    optimizer = optim.Adam(model.named_parameters())
    assert optimizer.param_groups[0]["param_names"] == ["weight", "bias"]
    assert optimizer.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_non_leaf_is_rejected():
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([engine.ones(2).requires_grad_() * 2])


def test_zero_grad():
    model = nn.Linear(2, 2)
    optimizer = optim.SGD(model.parameters())
    set_grads(list(model.parameters()), 0)
    optimizer.zero_grad(set_to_none=False)
    assert model.bias.grad.tolist() == [0.0, 0.0]
    optimizer.zero_grad()
    assert model.bias.grad is None


@pytest.mark.parametrize(
    "name, kwargs",
    [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"amsgrad": True}), ("AdamW", {})],
)
def test_state_dict_round_trip_continues_identically(name, kwargs):
    torch.manual_seed(0)
    initial = [torch.randn(3, 2), torch.randn(2)]
    straight = [to_engine(t).requires_grad_() for t in initial]
    resumed = [to_engine(t).requires_grad_() for t in initial]
    opt_straight = getattr(optim, name)(straight, **kwargs)
    opt_first = getattr(optim, name)(resumed, **kwargs)
    for step in range(3):
        for params, opt in ((straight, opt_straight), (resumed, opt_first)):
            set_grads(params, step)
            opt.step()

    state = opt_first.state_dict()
    assert sorted(state) == ["param_groups", "state"]
    assert sorted(state["state"]) == [0, 1]
    assert state["param_groups"][0]["params"] == [0, 1]
    opt_second = getattr(optim, name)(resumed, lr=123.0)
    opt_second.load_state_dict(state)
    assert opt_second.param_groups[0]["lr"] == opt_straight.param_groups[0]["lr"]
    assert opt_second.param_groups[0]["params"][0] is resumed[0]

    for step in range(3, 5):
        for params, opt in ((straight, opt_straight), (resumed, opt_second)):
            set_grads(params, step)
            opt.step()
    for a, b in zip(straight, resumed):
        np.testing.assert_allclose(np.array(a.tolist()), np.array(b.tolist()), rtol=1e-6)


def test_load_torch_adam_state_dict():
    """A PyTorch state dict, tensors converted, loads: 'step' arrives as a tensor."""
    torch.manual_seed(0)
    their_param = torch.randn(4, requires_grad=True)
    their_opt = torch.optim.Adam([their_param], lr=0.01)
    our_param = to_engine(their_param).requires_grad_()
    our_opt = optim.Adam([our_param], lr=0.01)
    for step in range(4):
        torch.manual_seed(step)
        grad = torch.randn(4)
        their_param.grad = grad
        their_opt.step()
        if step == 1:
            state = their_opt.state_dict()
            converted = {
                "state": {
                    k: {name: to_engine(v) for name, v in s.items()}
                    for k, s in state["state"].items()
                },
                "param_groups": state["param_groups"],
            }
            our_param = to_engine(their_param).requires_grad_()
            our_opt = optim.Adam([our_param], lr=0.01)
            our_opt.load_state_dict(converted)
            assert our_opt.state[our_param]["step"] == 2.0
        elif step > 1:
            our_param.grad = to_engine(grad)
            our_opt.step()
    np.testing.assert_allclose(
        np.array(our_param.tolist()), their_param.detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_load_state_dict_group_mismatch():
    optimizer = optim.SGD([engine.zeros(1).requires_grad_()], lr=0.1)
    other = optim.SGD([engine.zeros(1).requires_grad_(), engine.zeros(1).requires_grad_()], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optimizer.load_state_dict(other.state_dict())
