"""Activation layers: forward and gradients against PyTorch, implicit-dim warning, inplace."""

import pytest
import torch

import engine
from engine import nn
from tests.conftest import assert_close, compare_layer, to_engine

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
