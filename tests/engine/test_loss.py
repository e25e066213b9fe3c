"""engine/ops/loss.py: the fused cross-entropy against PyTorch's."""

import numpy as np
import pytest
import torch

import engine
from tests.conftest import assert_close, check_grads, randn, to_engine


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("rows,classes", [(1, 2), (7, 10), (300, 3)])
def test_fused_cross_entropy(reduction, rows, classes):
    labels = np.random.randint(0, classes, rows)
    labels[::3] = -100  # ignored rows
    if reduction == "mean":
        labels[0] = 1 % classes  # at least one counted row
    t_labels = torch.from_numpy(labels.astype(np.int64))
    e_labels = to_engine(labels.astype(np.int32))
    check_grads(
        lambda x: engine._cross_entropy(x, e_labels, reduction=reduction),
        lambda x: torch.nn.functional.cross_entropy(x, t_labels, reduction=reduction),
        randn(rows, classes) * 3,
    )


def test_fused_cross_entropy_on_a_strided_view_and_large_logits():
    x = randn(5, 8) * 50
    labels = np.array([0, 3, 1, 2, 4])
    check_grads(
        lambda t: engine._cross_entropy(t.t(), to_engine(labels.astype(np.int32))),
        lambda t: torch.nn.functional.cross_entropy(t.t(), torch.from_numpy(labels)),
        x.T.copy(),
    )


def test_fused_cross_entropy_errors():
    x = engine.randn(4, 3)
    with pytest.raises(RuntimeError, match=r"class indices of shape \(4,\)"):
        engine._cross_entropy(x, engine.tensor([0, 1]))
    loss = engine._cross_entropy(x, engine.tensor([0, 1, 2, 3]))
    with pytest.raises(IndexError, match="out of range"):
        loss.item()


def test_functional_cross_entropy_uses_the_fused_kernel():
    dev = engine._get_device()
    x = engine.randn(16, 5, requires_grad=True)
    y = engine.randint(0, 5, (16,))
    before = dev.stats["dispatches"]
    loss = engine.nn.functional.cross_entropy(x, y)
    loss.backward()
    assert dev.stats["dispatches"] - before <= 3
    ref = torch.nn.functional.cross_entropy(
        torch.from_numpy(x.detach().numpy()), torch.from_numpy(y.numpy().astype(np.int64))
    )
    assert_close(loss, ref)
