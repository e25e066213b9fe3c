"""RNN, LSTM, GRU and their cells (engine/nn/modules/rnn.py) against PyTorch: every
output, the gradients of the input, of the initial states and of every parameter."""

import numpy as np
import pytest
import torch

import engine
from engine import nn
from engine.nn.utils import rnn as rnn_utils
from tests.conftest import assert_close, randn, to_engine

TOL = {"rtol": 1e-4, "atol": 2e-5}


def _copy(ours, theirs):
    assert list(ours.state_dict().keys()) == list(theirs.state_dict().keys())
    ours.load_state_dict({k: to_engine(v) for k, v in theirs.state_dict().items()})


def _flatten(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flatten(o)]
    return [out]


def _compare(ours, theirs, x, hx=None):
    _copy(ours, theirs)
    xt = torch.from_numpy(x).requires_grad_()
    xe = to_engine(x, requires_grad=True)
    if hx is None:
        out_t, out_e = theirs(xt), ours(xe)
        states = []
    else:
        hts = [torch.from_numpy(h).requires_grad_() for h in hx]
        hes = [to_engine(h, requires_grad=True) for h in hx]
        states = list(zip(hes, hts, strict=True))
        arg_t = tuple(hts) if len(hts) > 1 else hts[0]
        arg_e = tuple(hes) if len(hes) > 1 else hes[0]
        out_t, out_e = theirs(xt, arg_t), ours(xe, arg_e)
    flat_t, flat_e = _flatten(out_t), _flatten(out_e)
    assert len(flat_t) == len(flat_e)
    loss_t, loss_e = 0, 0
    for e, t in zip(flat_e, flat_t, strict=True):
        assert_close(e, t, **TOL)
        up = randn(*t.shape)
        loss_t = loss_t + (t * torch.from_numpy(up)).sum()
        loss_e = loss_e + (e * to_engine(up)).sum()
    loss_t.backward()
    loss_e.backward()
    assert_close(xe.grad, xt.grad, **TOL)
    for he, ht in states:
        assert_close(he.grad, ht.grad, **TOL)
    for (name, pe), (_, pt) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert pe.grad is not None, name
        assert_close(pe.grad, pt.grad, **TOL)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_single_layer_matches_torch(cls):
    _compare(getattr(nn, cls)(3, 5), getattr(torch.nn, cls)(3, 5), randn(4, 2, 3))


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_two_layers_bidirectional_batch_first_initial_states(cls):
    kwargs = {"num_layers": 2, "bidirectional": True, "batch_first": True}
    ours, theirs = getattr(nn, cls)(3, 4, **kwargs), getattr(torch.nn, cls)(3, 4, **kwargs)
    hx = [randn(4, 2, 4)] + ([randn(4, 2, 4)] if cls == "LSTM" else [])
    _compare(ours, theirs, randn(2, 5, 3), hx)


def test_rnn_relu_no_bias_unbatched():
    kwargs = {"nonlinearity": "relu", "bias": False}
    _compare(nn.RNN(3, 4, **kwargs), torch.nn.RNN(3, 4, **kwargs), randn(5, 3))
    _compare(nn.GRU(3, 4, bias=False), torch.nn.GRU(3, 4, bias=False), randn(5, 3), [randn(1, 4)])


def test_lstm_proj_size():
    kwargs = {"proj_size": 2, "num_layers": 2, "bidirectional": True}
    ours, theirs = nn.LSTM(3, 4, **kwargs), torch.nn.LSTM(3, 4, **kwargs)
    _compare(ours, theirs, randn(3, 2, 3), [randn(4, 2, 2), randn(4, 2, 4)])
    assert tuple(ours.weight_hr_l1_reverse.shape) == (2, 4)


def test_parameter_names_shapes_and_init():
    lstm = nn.LSTM(3, 8, num_layers=2, bidirectional=True)
    theirs = torch.nn.LSTM(3, 8, num_layers=2, bidirectional=True)
    ours_shapes = {k: tuple(v.shape) for k, v in lstm.state_dict().items()}
    assert ours_shapes == {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    w = lstm.weight_hh_l1_reverse.numpy()
    assert np.abs(w).max() <= 1 / np.sqrt(8) and np.abs(w).max() > 0.8 / np.sqrt(8)


def test_dropout_between_layers_only_in_training():
    ours, theirs = (
        nn.GRU(3, 4, num_layers=2, dropout=0.5),
        torch.nn.GRU(3, 4, num_layers=2, dropout=0.5),
    )
    ours.eval()
    theirs.eval()
    _compare(ours, theirs, randn(3, 2, 3))
    ours.train()
    x = to_engine(randn(3, 2, 3))
    a, b = ours(x)[0].numpy(), ours(x)[0].numpy()
    assert not np.allclose(a, b)


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(cls):
    ours, theirs = getattr(nn, cls)(3, 4), getattr(torch.nn, cls)(3, 4)
    hx = [randn(2, 4)] + ([randn(2, 4)] if cls == "LSTMCell" else [])
    _compare(ours, theirs, randn(2, 3), hx)
    _compare(getattr(nn, cls)(3, 4), getattr(torch.nn, cls)(3, 4), randn(3))


def test_bad_input_errors():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match="input_size. Expected 3, got 5"):
        lstm(engine.zeros(2, 1, 5))
    with pytest.raises(ValueError, match="2D or 3D"):
        lstm(engine.zeros(2, 1, 1, 3))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 2, 4\)"):
        lstm(engine.zeros(5, 2, 3), (engine.zeros(1, 3, 4), engine.zeros(1, 2, 4)))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 2, 4\)"):
        nn.GRU(3, 4, num_layers=2)(engine.zeros(5, 2, 3), engine.zeros(1, 2, 4))
    with pytest.raises(ValueError, match="proj_size has to be smaller"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(RuntimeError, match="inconsistent input_size"):
        nn.GRUCell(3, 4)(engine.zeros(2, 5))


def test_pad_and_pack_utilities_match_torch():
    seqs = [randn(4, 2), randn(2, 2), randn(3, 2)]
    ours = rnn_utils.pad_sequence(
        [to_engine(s) for s in seqs], batch_first=True, padding_value=-1.0
    )
    theirs = torch.nn.utils.rnn.pad_sequence(
        [torch.from_numpy(s) for s in seqs], batch_first=True, padding_value=-1.0
    )
    assert_close(ours, theirs)
    padded = randn(4, 3, 2)
    lengths = [2, 4, 1]
    p_e = rnn_utils.pack_padded_sequence(to_engine(padded), lengths, enforce_sorted=False)
    p_t = torch.nn.utils.rnn.pack_padded_sequence(
        torch.from_numpy(padded), lengths, enforce_sorted=False
    )
    assert_close(p_e.data, p_t.data)
    assert_close(p_e.batch_sizes, p_t.batch_sizes)
    assert_close(p_e.sorted_indices, p_t.sorted_indices)
    assert_close(p_e.unsorted_indices, p_t.unsorted_indices)
    out_e, len_e = rnn_utils.pad_packed_sequence(p_e, batch_first=True, total_length=5)
    out_t, len_t = torch.nn.utils.rnn.pad_packed_sequence(p_t, batch_first=True, total_length=5)
    assert_close(out_e, out_t)
    assert_close(len_e, len_t)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        rnn_utils.pack_padded_sequence(to_engine(padded), lengths)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_packed_sequence_through_a_bidirectional_layer(cls):
    kwargs = {"bidirectional": True, "num_layers": 2}
    ours, theirs = getattr(nn, cls)(2, 3, **kwargs), getattr(torch.nn, cls)(2, 3, **kwargs)
    _copy(ours, theirs)
    padded = randn(4, 3, 2)
    lengths = [2, 4, 1]
    xt = torch.from_numpy(padded).requires_grad_()
    xe = to_engine(padded, requires_grad=True)
    p_t = torch.nn.utils.rnn.pack_padded_sequence(xt, lengths, enforce_sorted=False)
    p_e = rnn_utils.pack_padded_sequence(xe, lengths, enforce_sorted=False)
    out_t, h_t = theirs(p_t)
    out_e, h_e = ours(p_e)
    assert isinstance(out_e, rnn_utils.PackedSequence)
    assert_close(out_e.data, out_t.data, **TOL)
    for e, t in zip(_flatten(h_e), _flatten(h_t), strict=True):
        assert_close(e, t, **TOL)
    up = randn(*out_t.data.shape)
    loss_t = (out_t.data * torch.from_numpy(up)).sum() + sum(t.sum() for t in _flatten(h_t))
    loss_e = (out_e.data * to_engine(up)).sum() + sum(e.sum() for e in _flatten(h_e))
    loss_t.backward()
    loss_e.backward()
    assert_close(xe.grad, xt.grad, **TOL)
    for pe, pt in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert_close(pe.grad, pt.grad, **TOL)
