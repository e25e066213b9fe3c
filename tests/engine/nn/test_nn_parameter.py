"""Parameter: a leaf tensor that shares its data's storage; ops on it give plain tensors."""

import engine
from engine import nn


def test_parameter_is_a_leaf_tensor_sharing_storage():
    data = engine.zeros(3)
    param = nn.Parameter(data)
    assert isinstance(param, nn.Parameter)
    assert isinstance(param, engine.Tensor)
    assert param.requires_grad and param.is_leaf
    assert not data.requires_grad
    with engine.no_grad():
        param.fill_(2.0)
    assert data.tolist() == [2.0, 2.0, 2.0]
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    assert repr(param).startswith("Parameter containing:\n")


def test_parameter_ops_return_plain_tensors():
    param = nn.Parameter(engine.ones(2))
    assert not isinstance(param * 2, nn.Parameter)
    assert not isinstance(param.detach(), nn.Parameter)
