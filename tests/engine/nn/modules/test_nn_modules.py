"""engine.nn.modules: every class lives in the file of the same name as in torch.nn.modules."""

import importlib

import pytest
import torch

import engine
from engine import nn

# file of engine/nn/modules (and of torch/nn/modules) -> the classes it defines
LAYOUT = {
    "module": ["Module"],
    "linear": ["Identity", "Linear"],
    "activation": ["GELU", "LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Tanh"],
    "container": ["ModuleDict", "ModuleList", "Sequential"],
    "dropout": ["Dropout"],
    "flatten": ["Flatten"],
    "sparse": ["Embedding", "EmbeddingBag"],
    "rnn": ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"],
    "loss": ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "L1Loss", "MSELoss", "NLLLoss"],
}
CLASSES = [(file, name) for file, names in LAYOUT.items() for name in names]


@pytest.mark.parametrize("file, name", CLASSES)
def test_class_resolves_at_the_torch_path(file, name):
    ours = getattr(importlib.import_module(f"engine.nn.modules.{file}"), name)
    theirs = getattr(importlib.import_module(f"torch.nn.modules.{file}"), name)
    assert ours is getattr(nn, name) is getattr(nn.modules, name)
    assert theirs is getattr(torch.nn, name) is getattr(torch.nn.modules, name)
    assert ours.__module__ == f"engine.nn.modules.{file}"
    assert theirs.__module__ == f"torch.nn.modules.{file}"
    assert name in torch.nn.modules.__all__


def test_modules_exports_exactly_the_classes_of_the_layout():
    assert sorted(nn.modules.__all__) == sorted(name for _, name in CLASSES)
    assert set(nn.modules.__all__) <= set(nn.__all__)


def test_engine_nn_exports_modules_like_torch_nn():
    assert "modules" in nn.__all__
    assert engine.nn.modules is importlib.import_module("engine.nn.modules")
    assert torch.nn.modules is importlib.import_module("torch.nn.modules")


@pytest.mark.parametrize("file", sorted(LAYOUT))
def test_the_old_flat_paths_are_gone(file):
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(f"engine.nn.{file}")
