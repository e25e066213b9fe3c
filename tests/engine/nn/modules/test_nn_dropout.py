"""Dropout: the kept fraction and scaling in training, the identity in eval, reproducibility."""

import numpy as np
import pytest

import engine
from engine import nn


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
