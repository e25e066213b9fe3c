"""Flatten: forward and gradients against PyTorch for every range of dimensions."""

import pytest
import torch

from engine import nn
from tests.conftest import compare_layer


@pytest.mark.parametrize("start_dim, end_dim", [(1, -1), (0, -1), (1, 2), (2, 3), (0, 1), (-2, -1)])
def test_flatten_matches_torch(start_dim, end_dim):
    compare_layer(
        nn.Flatten(start_dim, end_dim), torch.nn.Flatten(start_dim, end_dim), (2, 3, 4, 2)
    )
