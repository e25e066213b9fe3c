"""Embedding and EmbeddingBag (engine/nn/modules/sparse.py) against PyTorch."""

import numpy as np
import pytest
import torch

import engine
from engine import nn
from engine.nn import functional as F
from tests.conftest import assert_close, randn, to_engine

IDS = np.array([[1, 4, 0], [4, 4, 2]], dtype=np.int64)


def _pair(num, dim, **kwargs):
    theirs = torch.nn.Embedding(num, dim, **kwargs)
    ours = nn.Embedding(num, dim, **kwargs)
    ours.load_state_dict({k: to_engine(v) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _forward_backward(ours, theirs, ids, *args):
    out_t = theirs(torch.from_numpy(ids), *args)
    out_e = ours(engine.tensor(ids.tolist()), *args)
    assert_close(out_e, out_t, rtol=1e-5, atol=1e-6)
    upstream = randn(*out_t.shape)
    (out_t * torch.from_numpy(upstream)).sum().backward()
    (out_e * to_engine(upstream)).sum().backward()
    assert_close(ours.weight.grad, theirs.weight.grad, rtol=1e-5, atol=1e-6)
    return out_e


@pytest.mark.parametrize(
    "kwargs", [{}, {"padding_idx": 4}, {"padding_idx": -1}, {"scale_grad_by_freq": True}]
)
def test_embedding_matches_torch(kwargs):
    ours, theirs = _pair(5, 3, **kwargs)
    _forward_backward(ours, theirs, IDS)
    if "padding_idx" in kwargs:
        assert ours.padding_idx == 4
        assert not ours.weight.grad[4].abs().sum().item()


def test_embedding_padding_row_starts_at_zero_and_init_is_standard_normal():
    e = nn.Embedding(500, 8, padding_idx=2)
    w = e.weight.numpy()
    assert not w[2].any()
    assert abs(w.std() - 1.0) < 0.05 and abs(w.mean()) < 0.05
    assert dict(e.state_dict()).keys() == {"weight"}


def test_embedding_max_norm_renormalizes_used_rows_in_place():
    ours, theirs = _pair(6, 4, max_norm=1.0)
    ids = np.array([0, 2, 2, 5], dtype=np.int64)
    _forward_backward(ours, theirs, ids)
    assert_close(ours.weight.detach(), theirs.weight.detach(), rtol=1e-5)
    norms = np.linalg.norm(ours.weight.numpy(), axis=1)
    assert (norms[[0, 2, 5]] <= 1.0 + 1e-5).all()


def test_embedding_from_pretrained_and_freeze():
    table = randn(4, 3)
    e = nn.Embedding.from_pretrained(to_engine(table))
    assert not e.weight.requires_grad
    assert_close(e(engine.tensor([3, 0])), table[[3, 0]])
    e = nn.Embedding.from_pretrained(to_engine(table), freeze=False, padding_idx=1)
    assert e.weight.requires_grad and e.padding_idx == 1
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(to_engine(randn(4)))


def test_functional_embedding():
    w = randn(5, 2)
    we, wt = to_engine(w, requires_grad=True), torch.from_numpy(w).requires_grad_()
    out_e = F.embedding(engine.tensor(IDS.tolist()), we, padding_idx=0)
    out_t = torch.nn.functional.embedding(torch.from_numpy(IDS), wt, padding_idx=0)
    assert_close(out_e, out_t)
    out_e.sum().backward()
    out_t.sum().backward()
    assert_close(we.grad, wt.grad)


def test_embedding_errors():
    e = nn.Embedding(5, 3)
    with pytest.raises(RuntimeError, match="Long, Int"):
        e(engine.tensor([0.0, 1.0]))
    with pytest.raises(IndexError):
        e(engine.tensor([1, 5])).tolist()
    with pytest.raises(AssertionError, match="within num_embeddings"):
        nn.Embedding(5, 3, padding_idx=5)


def _bag_pair(mode, **kwargs):
    theirs = torch.nn.EmbeddingBag(7, 3, mode=mode, **kwargs)
    ours = nn.EmbeddingBag(7, 3, mode=mode, **kwargs)
    ours.load_state_dict({k: to_engine(v) for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_2d_and_offsets(mode):
    ours, theirs = _bag_pair(mode)
    _forward_backward(ours, theirs, IDS)
    ours, theirs = _bag_pair(mode)
    flat = np.array([1, 2, 4, 5, 4, 3, 6], dtype=np.int64)
    offsets = np.array([0, 2, 2, 5], dtype=np.int64)  # an empty bag in the middle
    out_t = theirs(torch.from_numpy(flat), torch.from_numpy(offsets))
    out_e = ours(engine.tensor(flat.tolist()), engine.tensor(offsets.tolist()))
    assert_close(out_e, out_t, rtol=1e-5)
    upstream = randn(*out_t.shape)
    (out_t * torch.from_numpy(upstream)).sum().backward()
    (out_e * to_engine(upstream)).sum().backward()
    assert_close(ours.weight.grad, theirs.weight.grad, rtol=1e-5)


def test_embedding_bag_include_last_offset_padding_and_weights():
    flat = np.array([1, 2, 4, 5, 4, 3], dtype=np.int64)
    offsets = np.array([0, 2, 6], dtype=np.int64)
    ours, theirs = _bag_pair("mean", include_last_offset=True, padding_idx=4)
    out_t = theirs(torch.from_numpy(flat), torch.from_numpy(offsets))
    out_e = ours(engine.tensor(flat.tolist()), engine.tensor(offsets.tolist()))
    assert_close(out_e, out_t, rtol=1e-5)
    ours, theirs = _bag_pair("sum")
    psw = randn(6)
    out_t = theirs(torch.from_numpy(flat), torch.from_numpy(offsets), torch.from_numpy(psw))
    out_e = ours(engine.tensor(flat.tolist()), engine.tensor(offsets.tolist()), to_engine(psw))
    assert_close(out_e, out_t, rtol=1e-5)
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        nn.EmbeddingBag(7, 3)(engine.tensor([1, 2]), engine.tensor([0]), engine.ones(2))
    with pytest.raises(ValueError, match="offsets has to be None"):
        nn.EmbeddingBag(7, 3)(engine.tensor([[1, 2]]), engine.tensor([0]))
