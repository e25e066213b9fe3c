"""engine/ops/movement.py: views share storage, copies only when needed, gradients flow."""

import numpy as np
import pytest
import torch

import engine
from tests.conftest import assert_close, check_grads, randn, to_engine, to_torch


def test_views_share_storage():
    x = engine.arange(12).float()
    for v in (
        x.view(3, 4),
        x.view(3, 4).t(),
        x.view(2, 6)[:, 1:4],
        x.view(3, 4).unsqueeze(0),
        x.view(3, 1, 4).squeeze(1),
        x.view(1, 12).expand(5, 12),
        x.view(3, 4).permute(1, 0),
    ):
        assert v._storage is x._storage
    x.view(3, 4)[1, 2] = 100.0
    assert x[6].item() == 100.0


def test_reshape_copies_only_when_needed():
    x = to_engine(randn(3, 4))
    assert x.reshape(4, 3)._storage is x._storage
    assert x.t().reshape(12)._storage is not x._storage
    assert_close(x.t().reshape(12), to_torch(x.numpy()).t().reshape(12))
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.t().view(12)
    with pytest.raises(RuntimeError, match="invalid for input of size 12"):
        x.view(5, -1)


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: t.view(4, 6),
        lambda t: t.reshape(-1, 3),
        lambda t: t.permute(2, 0, 1),
        lambda t: t.transpose(0, 2),
        lambda t: t.unsqueeze(1).unsqueeze(-1),
        lambda t: t[:, :1].squeeze(1),
        lambda t: t[:, :1].expand(2, 5, 4),
        lambda t: t.flatten(),
        lambda t: t.flatten(1),
        lambda t: t.mT,
        lambda t: t.narrow(2, 1, 2),
        lambda t: t.select(1, 2),
        lambda t: t.contiguous(),
        lambda t: t.permute(1, 0, 2).contiguous().view(3, 8),
    ],
)
def test_view_ops_values_and_gradients(fn):
    check_grads(fn, fn, randn(2, 3, 4))


@pytest.mark.parametrize(
    "key",
    [
        1,
        -1,
        (0, 1),
        (slice(None), 2),
        (Ellipsis, 1),
        (None, 0),
        (slice(1, None, 2),),
        (slice(None), slice(None, None, 2), -1),
        (0, Ellipsis, None),
        (slice(-2, None),),
    ],
)
def test_basic_indexing(key):
    check_grads(lambda t: t[key], lambda t: t[key], randn(3, 4, 5))


def test_integer_tensor_and_list_indexing():
    x = randn(5, 4)
    idx = np.array([4, 0, 0, 2], np.int64)
    check_grads(lambda t: t[to_engine(idx.astype(np.int32))], lambda t: t[torch.from_numpy(idx)], x)
    check_grads(lambda t: t[:, [3, 1]], lambda t: t[:, [3, 1]], x)
    check_grads(lambda t: t[[0, 1], [2, 3]], lambda t: t[[0, 1], [2, 3]], x)
    rows = np.arange(5)
    cols = np.array([0, 3, 1, 1, 2])
    check_grads(
        lambda t: t[engine.arange(5), to_engine(cols.astype(np.int32))],
        lambda t: t[torch.from_numpy(rows), torch.from_numpy(cols)],
        x,
    )


def test_boolean_mask_indexing_and_assignment():
    x = randn(4, 5)
    mask = x > 0.2
    assert_close(to_engine(x)[to_engine(mask)], to_torch(x)[torch.from_numpy(mask)])
    e, t = to_engine(x), to_torch(x)
    e[e < 0] = 0.0
    t[t < 0] = 0.0
    assert_close(e, t)


def test_setitem_with_slices_and_broadcast():
    e, t = engine.zeros(3, 4), torch.zeros(3, 4)
    e[1] = 5.0
    t[1] = 5.0
    e[:, 2] = engine.tensor([1.0, 2.0, 3.0])
    t[:, 2] = torch.tensor([1.0, 2.0, 3.0])
    e[0, 1:3] = engine.tensor([7.0, 8.0])
    t[0, 1:3] = torch.tensor([7.0, 8.0])
    assert_close(e, t)
    with pytest.raises(IndexError, match="too many indices"):
        e[0, 0, 0]
    with pytest.raises(IndexError, match="out of bounds"):
        e[3]


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_stack(dim):
    a, b, c = randn(2, 3), randn(2, 3), randn(2, 3)
    check_grads(
        lambda x, y, z: engine.cat([x, y, z], dim),
        lambda x, y, z: torch.cat([x, y, z], dim),
        a,
        b,
        c,
    )
    check_grads(lambda x, y: engine.stack([x, y], dim), lambda x, y: torch.stack([x, y], dim), a, b)
    with pytest.raises(RuntimeError, match="sizes of tensors must match"):
        engine.cat([to_engine(randn(2, 3)), to_engine(randn(3, 4))], 0)


def test_cat_different_sizes_and_views():
    a, b = randn(2, 5), randn(3, 5)
    check_grads(
        lambda x, y: engine.cat([x.t(), y.t()], 1), lambda x, y: torch.cat([x.t(), y.t()], 1), a, b
    )


def test_split_chunk_unbind():
    x = randn(7, 4)
    for e, t in zip(to_engine(x).split(3), to_torch(x).split(3), strict=True):
        assert_close(e, t)
    for e, t in zip(to_engine(x).split([2, 5]), to_torch(x).split([2, 5]), strict=True):
        assert_close(e, t)
    for e, t in zip(to_engine(x).chunk(3, 1), to_torch(x).chunk(3, 1), strict=True):
        assert_close(e, t)
    for e, t in zip(engine.unbind(to_engine(x), 1), torch.unbind(to_torch(x), 1), strict=True):
        assert_close(e, t)
    check_grads(lambda t: t.split(3)[1] * 2, lambda t: t.split(3)[1] * 2, x)


def test_expand_errors():
    with pytest.raises(RuntimeError, match="expanded size"):
        engine.zeros(2, 3).expand(4, 3)
    with pytest.raises(RuntimeError, match="permute"):
        engine.zeros(2, 3).permute(0)
