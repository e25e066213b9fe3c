"""engine/ops/fused.py: fused optimizer steps match torch.optim for every option."""

import numpy as np
import pytest
import torch

import engine
from engine import nn, optim
from tests.conftest import assert_close, randn, to_engine


def _run(make_ours, make_theirs, params, grads, transpose=False):
    ours = [nn.Parameter(to_engine(p.T if transpose else p)) for p in params]
    if transpose:  # non-contiguous parameters take the composite path
        ours = [nn.Parameter(to_engine(p.T).t()) for p in params]
        assert not ours[0].is_contiguous()
    theirs = [torch.nn.Parameter(torch.from_numpy(p.copy())) for p in params]
    opt_ours, opt_theirs = make_ours(ours), make_theirs(theirs)
    for step_grads in grads:
        for p, g in zip(ours, step_grads, strict=True):
            p.grad = to_engine(g)
        for p, g in zip(theirs, step_grads, strict=True):
            p.grad = torch.from_numpy(g.copy())
        opt_ours.step()
        opt_theirs.step()
    for a, b in zip(ours, theirs, strict=True):
        assert_close(a.detach(), b, rtol=1e-5, atol=1e-6)
    return opt_ours, opt_theirs


SGD_OPTIONS = [
    {},
    {"momentum": 0.9},
    {"momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01},
    {"momentum": 0.8, "nesterov": True, "weight_decay": 0.1, "maximize": True},
]
ADAM_OPTIONS = [
    ("Adam", {}),
    ("Adam", {"weight_decay": 0.05, "amsgrad": True}),
    ("Adam", {"betas": (0.8, 0.9), "eps": 1e-6, "maximize": True}),
    ("AdamW", {}),
    ("AdamW", {"weight_decay": 0.1, "amsgrad": True}),
]


@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("options", SGD_OPTIONS)
def test_sgd_fused_and_composite_match_torch(options, transpose):
    params = [randn(4, 3), randn(3, 5)]
    grads = [[randn(*p.shape) for p in params] for _ in range(4)]
    _run(
        lambda ps: optim.SGD(ps, lr=0.1, **options),
        lambda ps: torch.optim.SGD(ps, lr=0.1, **options),
        params,
        grads,
        transpose,
    )


@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("name,options", ADAM_OPTIONS)
def test_adam_fused_and_composite_match_torch(name, options, transpose):
    params = [randn(4, 3), randn(3, 5)]
    grads = [[randn(*p.shape) for p in params] for _ in range(4)]
    ours, theirs = _run(
        lambda ps: getattr(optim, name)(ps, lr=0.01, **options),
        lambda ps: getattr(torch.optim, name)(ps, lr=0.01, **options),
        params,
        grads,
        transpose,
    )
    state_ours = ours.state[ours.param_groups[0]["params"][0]]
    state_theirs = theirs.state[theirs.param_groups[0]["params"][0]]
    assert_close(state_ours["exp_avg"], state_theirs["exp_avg"])
    assert_close(state_ours["exp_avg_sq"], state_theirs["exp_avg_sq"])


def test_fused_step_is_one_dispatch_per_parameter():
    dev = engine._get_device()
    p = nn.Parameter(engine.randn(100))
    p.grad = engine.randn(100)
    opt = optim.Adam([p])
    opt.step()
    before = dev.stats["dispatches"]
    opt.step()
    assert dev.stats["dispatches"] - before == 1


def test_fused_step_rejects_mismatched_state():
    p, g = engine.zeros(3), engine.zeros(3)
    with pytest.raises(RuntimeError, match="shape"):
        engine._fused_adam_(
            p, g, engine.zeros(4), engine.zeros(3), step=1, lr=0.1, beta1=0.9, beta2=0.99, eps=1e-8
        )
    assert np.all(p.numpy() == 0)
