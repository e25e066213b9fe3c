"""Linear and Identity: forward and gradients against PyTorch, initialisation."""

import math

import numpy as np
import pytest
import torch

import engine
from engine import nn
from tests.conftest import compare_layer


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
