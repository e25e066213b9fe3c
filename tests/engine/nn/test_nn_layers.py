"""Linear, Identity, Flatten, activations and Dropout: forward and gradients against PyTorch."""

import math

import numpy as np
import pytest
import torch

import engine
from engine import nn
from tests.conftest import assert_close, to_engine


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


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3)])
def test_linear_matches_torch(bias, shape):
    compare_layer(nn.Linear(3, 4, bias=bias), torch.nn.Linear(3, 4, bias=bias), shape)


def test_linear_default_init_bounds_and_shapes():
    layer = nn.Linear(16, 8)
    assert tuple(layer.weight.shape) == (8, 16) and tuple(layer.bias.shape) == (8,)
    bound = 1 / math.sqrt(16)
    weights = np.array(layer.weight.tolist())
    assert np.abs(weights).max() <= bound and np.abs(weights).max() > 0.5 * bound
    assert np.abs(np.array(layer.bias.tolist())).max() <= bound
    assert layer.bias.requires_grad and isinstance(layer.weight, nn.Parameter)
    assert nn.Linear(2, 3, bias=False).bias is None


def test_identity():
    x = engine.ones(2, 3)
    assert nn.Identity(54, unused="argument")(x) is x


@pytest.mark.parametrize("start_dim, end_dim", [(1, -1), (0, -1), (1, 2), (2, 3), (0, 1), (-2, -1)])
def test_flatten_matches_torch(start_dim, end_dim):
    compare_layer(
        nn.Flatten(start_dim, end_dim), torch.nn.Flatten(start_dim, end_dim), (2, 3, 4, 2)
    )


ACTIVATIONS = [
    ("ReLU", (), {}),
    ("GELU", (), {}),
    ("GELU", (), {"approximate": "tanh"}),
    ("Sigmoid", (), {}),
    ("Tanh", (), {}),
    ("Softmax", (), {"dim": 1}),
    ("Softmax", (), {"dim": -1}),
    ("LogSoftmax", (), {"dim": 1}),
    ("LogSoftmax", (), {"dim": 0}),
    ("LeakyReLU", (), {}),
    ("LeakyReLU", (0.2,), {}),
]


@pytest.mark.parametrize("name, args, kwargs", ACTIVATIONS)
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4)])
def test_activation_matches_torch(name, args, kwargs, shape):
    compare_layer(
        getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs), shape
    )


def test_softmax_implicit_dim_warns_like_torch():
    x = torch.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        ours = nn.Softmax()(to_engine(x))
    with pytest.warns(UserWarning):
        theirs = torch.nn.Softmax()(x)
    assert_close(ours, theirs)


def test_inplace_is_not_implemented():
    with pytest.raises(NotImplementedError, match="inplace"):
        nn.ReLU(inplace=True)(engine.ones(2))


def test_dropout_train_and_eval():
    engine.manual_seed(0)
    layer = nn.Dropout(p=0.25)
    x = engine.ones(64, 64).requires_grad_()
    out = layer(x)
    values = np.array(out.tolist())
    kept = values != 0
    assert abs(kept.mean() - 0.75) < 0.03
    np.testing.assert_allclose(values[kept], 1 / 0.75, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(np.array(x.grad.tolist()), values, rtol=1e-6)
    layer.eval()
    assert layer(x) is x
    assert nn.Dropout(p=0.0)(x) is x
    assert np.all(np.array(nn.Dropout(p=1.0)(x).tolist()) == 0)
    with pytest.raises(ValueError):
        nn.Dropout(p=1.5)


def test_dropout_is_reproducible_with_manual_seed():
    layer = nn.Dropout()
    engine.manual_seed(123)
    first = layer(engine.ones(100)).tolist()
    engine.manual_seed(123)
    assert layer(engine.ones(100)).tolist() == first
