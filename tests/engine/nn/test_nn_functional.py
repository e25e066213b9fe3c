"""engine.nn.functional pieces not covered through the layer and loss modules."""

import pytest
import torch

import engine
from engine.nn import functional as F
from tests.conftest import assert_close, to_engine


def test_linear_function():
    torch.manual_seed(0)
    x, w, b = torch.randn(3, 4), torch.randn(2, 4), torch.randn(2)
    assert_close(
        F.linear(to_engine(x), to_engine(w), to_engine(b)), torch.nn.functional.linear(x, w, b)
    )
    assert_close(F.linear(to_engine(x), to_engine(w)), torch.nn.functional.linear(x, w))


@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot(num_classes):
    target = torch.tensor([[0, 2], [4, 1]])
    ours = F.one_hot(to_engine(target), num_classes)
    theirs = torch.nn.functional.one_hot(target, num_classes)
    assert ours.dtype == engine.int64
    assert ours.tolist() == theirs.tolist()
    with pytest.raises(RuntimeError):
        F.one_hot(engine.ones(2))


def test_elementwise_functions():
    torch.manual_seed(0)
    x = torch.randn(3, 5)
    for name in ("relu", "sigmoid", "tanh", "gelu", "leaky_relu"):
        assert_close(getattr(F, name)(to_engine(x)), getattr(torch.nn.functional, name)(x))
    assert_close(F.softmax(to_engine(x), dim=0), torch.nn.functional.softmax(x, dim=0))
    assert_close(F.log_softmax(to_engine(x), 1), torch.nn.functional.log_softmax(x, 1))
    assert_close(F.leaky_relu(to_engine(x), 0.3), torch.nn.functional.leaky_relu(x, 0.3))
    with pytest.raises(RuntimeError):
        F.gelu(to_engine(x), approximate="fast")


def test_dropout_function():
    x = engine.ones(10)
    assert F.dropout(x, 0.5, training=False) is x
    with pytest.raises(ValueError):
        F.dropout(x, -0.1)
