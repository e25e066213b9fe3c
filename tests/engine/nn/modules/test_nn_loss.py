"""Loss modules and functions: values and input gradients against PyTorch, every option."""

import pytest
import torch

import engine
from engine import nn
from engine.nn import functional as F
from tests.conftest import assert_close, to_engine


def compare_loss(make_ours, make_theirs, input, target, upstream_seed=1):
    """Loss value and d loss / d input agree; `input` is a torch tensor of raw values."""
    x_theirs = input.clone().requires_grad_()
    x_ours = to_engine(input).requires_grad_()
    loss_theirs = make_theirs(x_theirs, target)
    loss_ours = make_ours(x_ours, to_engine(target))
    assert tuple(loss_ours.shape) == tuple(loss_theirs.shape)
    assert_close(loss_ours, loss_theirs)
    torch.manual_seed(upstream_seed)
    upstream = torch.randn(loss_theirs.shape)
    (loss_theirs * upstream).sum().backward()
    (loss_ours * to_engine(upstream)).sum().backward()
    assert_close(x_ours.grad, x_theirs.grad)


REDUCTIONS = ["none", "mean", "sum"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["MSELoss", "L1Loss"])
def test_regression_losses(name, reduction):
    torch.manual_seed(0)
    input, target = torch.randn(4, 3), torch.randn(4, 3)
    compare_loss(
        getattr(nn, name)(reduction=reduction),
        getattr(torch.nn, name)(reduction=reduction),
        input,
        target,
    )


def test_mse_broadcast_warns_and_weight():
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(engine.ones(3, 2), engine.ones(2))
    input, target, weight = torch.randn(3, 2), torch.randn(3, 2), torch.rand(3, 2)
    for reduction in REDUCTIONS:
        assert_close(
            F.mse_loss(
                to_engine(input), to_engine(target), reduction=reduction, weight=to_engine(weight)
            ),
            torch.nn.functional.mse_loss(input, target, reduction=reduction, weight=weight),
        )


CROSS_ENTROPY_CASES = [
    {},
    {"label_smoothing": 0.2},
    {"ignore_index": 1},
    {"ignore_index": 1, "label_smoothing": 0.1},
    {"weight": True},
    {"weight": True, "ignore_index": 2, "label_smoothing": 0.3},
]


def class_weight_kwargs(options, num_classes):
    options = dict(options)
    if options.pop("weight", False):
        weight = torch.rand(num_classes) + 0.5
        return {**options, "weight": to_engine(weight)}, {**options, "weight": weight}
    return options, options


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CROSS_ENTROPY_CASES)
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2, 2)])
def test_cross_entropy_class_indices(shape, options, reduction):
    torch.manual_seed(0)
    input = torch.randn(*shape)
    target = torch.randint(0, shape[1], (shape[0],) + shape[2:])
    ours_kwargs, their_kwargs = class_weight_kwargs(options, shape[1])
    compare_loss(
        nn.CrossEntropyLoss(reduction=reduction, **ours_kwargs),
        torch.nn.CrossEntropyLoss(reduction=reduction, **their_kwargs),
        input,
        target,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.25}, {"weight": True}])
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4)])
def test_cross_entropy_probability_targets(shape, options, reduction):
    torch.manual_seed(0)
    input = torch.randn(*shape)
    target = torch.softmax(torch.randn(*shape), dim=1)
    ours_kwargs, their_kwargs = class_weight_kwargs(options, shape[1])
    compare_loss(
        nn.CrossEntropyLoss(reduction=reduction, **ours_kwargs),
        torch.nn.CrossEntropyLoss(reduction=reduction, **their_kwargs),
        input,
        target,
    )


def test_cross_entropy_unbatched_and_errors():
    torch.manual_seed(0)
    compare_loss(
        F.cross_entropy, torch.nn.functional.cross_entropy, torch.randn(5), torch.tensor(3)
    )
    with pytest.raises(RuntimeError, match="ignore_index"):
        F.cross_entropy(engine.ones(2, 3), engine.ones(2, 3) / 3, ignore_index=0)
    with pytest.raises(ValueError, match="batch_size"):
        F.cross_entropy(engine.ones(2, 3), engine.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(engine.ones(2, 3), engine.tensor([0, 1]), reduction="avg")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"ignore_index": 0}, {"weight": True}])
def test_nll_loss(options, reduction):
    torch.manual_seed(0)
    input = torch.log_softmax(torch.randn(6, 4), dim=1)
    target = torch.randint(0, 4, (6,))
    ours_kwargs, their_kwargs = class_weight_kwargs(options, 4)
    compare_loss(
        nn.NLLLoss(reduction=reduction, **ours_kwargs),
        torch.nn.NLLLoss(reduction=reduction, **their_kwargs),
        input,
        target,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_loss(weighted, reduction):
    torch.manual_seed(0)
    input = torch.rand(4, 3) * 0.9 + 0.05
    target = torch.randint(0, 2, (4, 3)).float()
    weight = torch.rand(3) if weighted else None
    compare_loss(
        nn.BCELoss(weight=None if weight is None else to_engine(weight), reduction=reduction),
        torch.nn.BCELoss(weight=weight, reduction=reduction),
        input,
        target,
    )


def test_bce_clamps_log_at_minus_100():
    input = torch.tensor([0.0, 1.0, 0.5])
    target = torch.tensor([1.0, 0.0, 1.0])
    assert_close(
        F.binary_cross_entropy(to_engine(input), to_engine(target), reduction="none"),
        torch.nn.functional.binary_cross_entropy(input, target, reduction="none"),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("with_pos_weight", [False, True])
def test_bce_with_logits(with_pos_weight, weighted, reduction):
    torch.manual_seed(0)
    input = torch.randn(4, 3) * 5
    target = torch.rand(4, 3)
    pos_weight = torch.rand(3) * 3 if with_pos_weight else None
    weight = torch.rand(4, 1) if weighted else None
    compare_loss(
        nn.BCEWithLogitsLoss(
            weight=None if weight is None else to_engine(weight),
            reduction=reduction,
            pos_weight=None if pos_weight is None else to_engine(pos_weight),
        ),
        torch.nn.BCEWithLogitsLoss(weight=weight, reduction=reduction, pos_weight=pos_weight),
        input,
        target,
    )


def test_loss_weights_are_buffers():
    loss = nn.CrossEntropyLoss(weight=engine.ones(3))
    assert list(loss.state_dict()) == list(
        torch.nn.CrossEntropyLoss(weight=torch.ones(3)).state_dict()
    )
    assert list(nn.BCEWithLogitsLoss(pos_weight=engine.ones(2)).state_dict()) == ["pos_weight"]
    with pytest.warns(UserWarning):
        assert nn.MSELoss(size_average=False).reduction == "sum"
