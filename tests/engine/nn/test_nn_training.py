"""End to end: an MLP trained with the engine follows PyTorch's losses step by step."""

import numpy as np
import pytest
import torch

from engine import nn, optim
from tests.conftest import to_engine


def make_models():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    ours = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    ours.load_state_dict({k: to_engine(v) for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize(
    "optimizer_name, kwargs",
    [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01}), ("AdamW", {"lr": 0.01})],
)
def test_mlp_losses_match_torch(optimizer_name, kwargs):
    ours, theirs = make_models()
    torch.manual_seed(1)
    x = torch.randn(32, 4)
    y = torch.randint(0, 3, (32,))
    x_ours, y_ours = to_engine(x), to_engine(y)
    opt_ours = getattr(optim, optimizer_name)(ours.parameters(), **kwargs)
    opt_theirs = getattr(torch.optim, optimizer_name)(theirs.parameters(), **kwargs)
    loss_fn_ours, loss_fn_theirs = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    ours_losses, their_losses = [], []
    for _ in range(6):
        opt_ours.zero_grad()
        loss = loss_fn_ours(ours(x_ours), y_ours)
        loss.backward()
        opt_ours.step()
        ours_losses.append(loss.item())

        opt_theirs.zero_grad()
        loss = loss_fn_theirs(theirs(x), y)
        loss.backward()
        opt_theirs.step()
        their_losses.append(loss.item())
    np.testing.assert_allclose(ours_losses, their_losses, rtol=1e-4, atol=1e-5)
    assert their_losses[-1] < their_losses[0]
    for ours_param, their_param in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(
            np.array(ours_param.tolist()), their_param.detach().numpy(), rtol=1e-4, atol=1e-5
        )
