"""engine.nn.init: gains and fans exactly as PyTorch, distributions by their statistics."""

import math

import numpy as np
import pytest
import torch

import engine
from engine.nn import init


def values(t):
    return np.array(t.tolist())


@pytest.mark.parametrize(
    "nonlinearity, param",
    [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("selu", None),
    ],
)
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(
        nonlinearity, param
    )


def test_calculate_gain_errors():
    with pytest.raises(ValueError):
        init.calculate_gain("swish")
    with pytest.raises(ValueError):
        init.calculate_gain("leaky_relu", "steep")


@pytest.mark.parametrize("shape", [(3, 5), (4, 2, 3, 3), (6, 1, 7)])
def test_fan_in_and_fan_out_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(engine.empty(*shape)) == (
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    )
    with pytest.raises(ValueError):
        init._calculate_fan_in_and_fan_out(engine.empty(4))


def test_uniform_and_normal():
    engine.manual_seed(0)
    t = engine.empty(200, 100)
    assert init.uniform_(t, -2.0, 3.0) is t
    v = values(t)
    assert v.min() >= -2.0 and v.max() <= 3.0
    assert abs(v.mean() - 0.5) < 0.05 and abs(v.std() - 5 / math.sqrt(12)) < 0.05
    init.normal_(t, mean=1.0, std=0.5)
    v = values(t)
    assert abs(v.mean() - 1.0) < 0.02 and abs(v.std() - 0.5) < 0.02


def test_constants():
    t = engine.empty(3, 2).requires_grad_()
    init.constant_(t, 0.25)
    assert values(t).tolist() == [[0.25] * 2] * 3
    init.ones_(t)
    assert values(t).tolist() == [[1.0] * 2] * 3
    init.zeros_(t)
    assert values(t).tolist() == [[0.0] * 2] * 3
    assert t.is_leaf and t.grad_fn is None


def test_xavier():
    engine.manual_seed(1)
    t = engine.empty(300, 200)
    std = 1.5 * math.sqrt(2.0 / 500)
    init.xavier_uniform_(t, gain=1.5)
    v = values(t)
    assert np.abs(v).max() <= math.sqrt(3) * std + 1e-6
    assert abs(v.std() - std) < 0.03 * std
    init.xavier_normal_(t, gain=1.5)
    assert abs(values(t).std() - std) < 0.03 * std and abs(values(t).mean()) < 0.01


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming(mode):
    engine.manual_seed(2)
    t = engine.empty(300, 200)
    fan = 200 if mode == "fan_in" else 300
    std = math.sqrt(2.0) / math.sqrt(fan)
    init.kaiming_uniform_(t, mode=mode, nonlinearity="relu")
    v = values(t)
    assert np.abs(v).max() <= math.sqrt(3) * std + 1e-6
    assert abs(v.std() - std) < 0.03 * std
    init.kaiming_normal_(t, a=0.1, mode=mode)
    std = init.calculate_gain("leaky_relu", 0.1) / math.sqrt(fan)
    assert abs(values(t).std() - std) < 0.03 * std
    with pytest.raises(ValueError):
        init.kaiming_uniform_(t, mode="fan_avg")


def test_init_with_generator_is_reproducible():
    first = init.normal_(engine.empty(50), generator=engine.Generator().manual_seed(7)).tolist()
    second = init.normal_(engine.empty(50), generator=engine.Generator().manual_seed(7)).tolist()
    assert first == second
