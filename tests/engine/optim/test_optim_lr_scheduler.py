"""Learning-rate schedulers: the same learning rates as PyTorch over many steps."""

import math

import pytest
import torch

import engine
from engine import optim
from engine.optim import lr_scheduler


class Warmup:
    """A callable object: its state is saved by LambdaLR.state_dict."""

    def __init__(self, steps):
        self.steps = steps

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.steps)


SCHEDULERS = [
    ("StepLR", {"step_size": 4}),
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 0.95**epoch}),
    ("LambdaLR", {"lr_lambda": Warmup(5)}),
]


def make_optimizers(lr=0.1, groups=2):
    ours = optim.SGD(
        [{"params": [engine.zeros(1).requires_grad_()], "lr": lr * (i + 1)} for i in range(groups)],
        lr=lr,
    )
    theirs = torch.optim.SGD(
        [
            {"params": [torch.zeros(1, requires_grad=True)], "lr": lr * (i + 1)}
            for i in range(groups)
        ],
        lr=lr,
    )
    return ours, theirs


@pytest.mark.parametrize("name, kwargs", SCHEDULERS)
def test_scheduler_matches_torch_over_30_steps(name, kwargs):
    opt_ours, opt_theirs = make_optimizers()
    ours = getattr(lr_scheduler, name)(opt_ours, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(opt_theirs, **kwargs)
    assert ours.get_last_lr() == theirs.get_last_lr()
    for _ in range(30):
        opt_ours.step()
        opt_theirs.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert [g["lr"] for g in opt_ours.param_groups] == [
            g["lr"] for g in opt_theirs.param_groups
        ]
    assert ours.last_epoch == theirs.last_epoch == 30
    assert ours.base_lrs == theirs.base_lrs


def test_cosine_follows_closed_form_within_a_period():
    opt, _ = make_optimizers(groups=1)
    scheduler = lr_scheduler.CosineAnnealingLR(opt, T_max=20, eta_min=0.01)
    for epoch in range(1, 21):
        opt.step()
        scheduler.step()
        expected = 0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * epoch / 20)) / 2
        assert scheduler.get_last_lr()[0] == pytest.approx(expected, rel=1e-12)


def test_step_with_epoch_uses_closed_form_like_torch():
    opt_ours, opt_theirs = make_optimizers()
    ours = lr_scheduler.StepLR(opt_ours, step_size=2)
    theirs = torch.optim.lr_scheduler.StepLR(opt_theirs, step_size=2)
    with pytest.warns(UserWarning):
        ours.step(5)
    with pytest.warns(UserWarning):
        theirs.step(5)
    assert ours.get_last_lr() == theirs.get_last_lr()


def test_state_dict_round_trip():
    opt, _ = make_optimizers()
    scheduler = lr_scheduler.LambdaLR(opt, Warmup(4))
    for _ in range(3):
        opt.step()
        scheduler.step()
    state = scheduler.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3
    assert state["lr_lambdas"] == [{"steps": 4}, {"steps": 4}]

    opt2, _ = make_optimizers()
    resumed = lr_scheduler.LambdaLR(opt2, [Warmup(9), Warmup(9)])
    resumed.load_state_dict(state)
    assert resumed.last_epoch == 3 and resumed.lr_lambdas[0].steps == 4

    cosine = lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    restored = lr_scheduler.CosineAnnealingLR(make_optimizers()[0], T_max=1)
    restored.load_state_dict(cosine.state_dict())
    assert restored.T_max == 5


def test_resuming_requires_initial_lr():
    opt, _ = make_optimizers()
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)
    with pytest.raises(TypeError):
        lr_scheduler.StepLR(object(), step_size=2)
