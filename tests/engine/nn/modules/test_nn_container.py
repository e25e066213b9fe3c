"""Sequential, ModuleList, ModuleDict behave like Python containers and like PyTorch's."""

from collections import OrderedDict

import pytest

import engine
from engine import nn


def test_sequential_forward_indexing_slicing():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert len(model) == 3
    assert isinstance(model[0], nn.Linear) and model[-1] is model[2]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[1] is model[1]
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    x = engine.ones(5, 3)
    assert tuple(model(x).shape) == (5, 2)
    assert model(x).tolist() == model[2](model[1](model[0](x))).tolist()
    with pytest.raises(IndexError):
        model[3]


def test_sequential_mutation():
    model = nn.Sequential(nn.ReLU())
    model.append(nn.Tanh())
    assert [n for n, _ in model.named_children()] == ["0", "1"]
    model.insert(0, nn.Sigmoid())
    assert [type(m).__name__ for m in model] == ["Sigmoid", "ReLU", "Tanh"]
    del model[1]
    assert [n for n, _ in model.named_children()] == ["0", "1"]
    assert [type(m).__name__ for m in model] == ["Sigmoid", "Tanh"]
    model[0] = nn.Identity()
    assert isinstance(model[0], nn.Identity)
    assert isinstance(model.pop(1), nn.Tanh) and len(model) == 1
    model.extend([nn.ReLU(), nn.ReLU()])
    assert len(model + nn.Sequential(nn.ReLU())) == 4


def test_sequential_from_ordered_dict():
    model = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert [n for n, _ in model.named_parameters()] == ["fc.weight", "fc.bias"]
    assert isinstance(model.fc, nn.Linear) and model[1] is model.act


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers += [nn.Sigmoid()]
    assert len(layers) == 6
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    layers.insert(0, nn.Identity())
    assert isinstance(layers[0], nn.Identity) and len(layers) == 7
    del layers[0]
    assert [n for n, _ in layers.named_children()] == [str(i) for i in range(6)]
    assert isinstance(layers.pop(-1), nn.Sigmoid)
    layers[0] = nn.ReLU()
    assert isinstance(layers[0], nn.ReLU)
    assert len(layers + nn.ModuleList([nn.ReLU()])) == 6
    with pytest.raises(IndexError):
        layers[10]


def test_module_dict():
    heads = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()})
    assert list(heads) == ["a", "b"] and list(heads.keys()) == ["a", "b"]
    assert "a" in heads and len(heads) == 2
    heads["c"] = nn.Tanh()
    heads.update([("d", nn.Sigmoid())])
    assert [k for k, _ in heads.items()] == ["a", "b", "c", "d"]
    assert isinstance(heads.pop("c"), nn.Tanh)
    del heads["d"]
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias"]
    assert len(list(heads.values())) == 2
    heads.clear()
    assert len(heads) == 0
