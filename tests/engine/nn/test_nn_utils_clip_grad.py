"""engine/nn/utils/clip_grad.py: clip_grad_norm_ and clip_grad_value_ against PyTorch."""

import math

import numpy as np
import pytest
import torch

import engine
from engine import nn
from tests.conftest import assert_close, randn, to_engine


def _params(scale):
    arrays = [randn(3, 4) * scale, randn(5) * scale, randn(2, 2) * scale]
    ours, theirs = [], []
    for a in arrays:
        p = nn.Parameter(to_engine(randn(*a.shape)))
        p.grad = to_engine(a)
        t = torch.nn.Parameter(torch.from_numpy(randn(*a.shape)))
        t.grad = torch.from_numpy(a.copy())
        ours.append(p)
        theirs.append(t)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("scale", [0.01, 10.0])
def test_clip_grad_norm_matches_torch(norm_type, scale):
    ours, theirs = _params(scale)
    total = nn.utils.clip_grad_norm_(ours, 1.5, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, 1.5, norm_type=norm_type)
    assert_close(total, total_t, rtol=1e-5)
    for p, t in zip(ours, theirs, strict=True):
        assert_close(p.grad, t.grad, rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_single_tensor_skips_missing_grads_and_empty():
    ours, theirs = _params(5.0)
    ours[1].grad = None
    theirs[1].grad = None
    assert_close(nn.utils.clip_grad_norm_(ours, 1.0), torch.nn.utils.clip_grad_norm_(theirs, 1.0))
    p = nn.Parameter(engine.ones(3))
    p.grad = engine.full((3,), 4.0)
    assert_close(nn.utils.clip_grad_norm_(p, 1.0), torch.tensor(math.sqrt(48)))
    assert_close(p.grad, np.full(3, 4.0 / (math.sqrt(48) + 1e-6), dtype=np.float32))
    assert nn.utils.clip_grad_norm_([], 1.0).item() == 0.0


def test_clip_grad_norm_non_finite():
    p = nn.Parameter(engine.ones(2))
    p.grad = engine.tensor([1.0, float("inf")])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert math.isinf(nn.utils.clip_grad_norm_(p, 1.0).item())


def test_clip_grad_value_matches_torch():
    ours, theirs = _params(3.0)
    assert nn.utils.clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, t in zip(ours, theirs, strict=True):
        assert_close(p.grad, t.grad)
