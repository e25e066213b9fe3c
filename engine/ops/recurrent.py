"""Recurrent layers' time loop: one autograd node per layer and direction.

The input projection of every time step is one GEMM done by the caller (`proj`, with
b_ih); `recurrence` then runs the steps, each in two dispatches: the hidden-state
product (matmul with b_hh in the same dispatch) and a fused cell kernel
(shaders/{rnn,lstm,gru}_cell.wgsl) doing the gate nonlinearities and the state
update. The backward walks the steps in reverse, again two dispatches each (the fused
cell backward, then the product with W_hh), and finishes with one GEMM for each of the
weight gradients over all steps. An LSTM with proj_size adds the projection product
(and a copy) per step.

The node's output is one flat tensor, [h of every step, c_n (LSTM)], of which the
sequence, h_n and c_n are views, so that one node carries every output's gradient.
With `lengths` (a PackedSequence), a sequence that has ended keeps its state, so the
last step holds every sequence's final state.
"""

from __future__ import annotations

from .. import autograd
from ..backend.kernel import Kernel, read, write
from ..dtypes import float32
from ..tensor import Tensor
from .creation import zeros
from .matmul import linear, matmul
from .movement import cat, narrow
from .pointwise import add, copy_into

_STEP = "hidden, t: u32;"

LSTM_CELL = Kernel(
    "lstm_cell",
    bindings=(
        write("h"),
        write("c"),
        read("gi"),
        read("gh"),
        read("c_prev"),
        read("h_prev", optional=True),
        read("lengths", "i32", optional=True),
    ),
    params=_STEP + " h_offset, c_offset, gi_offset, gh_offset, c_prev_offset, h_prev_offset,"
    " lengths_offset: u32",
)
LSTM_CELL_BACKWARD = Kernel(
    "lstm_cell_backward",
    bindings=(
        write("dgates"),
        write("dstate"),
        read("dstate_in"),
        read("dh", optional=True),
        read("dh2", optional=True),
        read("gi"),
        read("gh"),
        read("c_prev"),
        read("lengths", "i32", optional=True),
    ),
    params=_STEP + " batch, dgates_offset, dstate_in_offset, dh_offset, dh2_offset, gi_offset,"
    " gh_offset, c_prev_offset, lengths_offset: u32",
)
GRU_CELL = Kernel(
    "gru_cell",
    bindings=(
        write("h"),
        read("gi"),
        read("gh"),
        read("h_prev"),
        read("lengths", "i32", optional=True),
    ),
    params=_STEP + " h_offset, gi_offset, gh_offset, h_prev_offset, lengths_offset: u32",
)
GRU_CELL_BACKWARD = Kernel(
    "gru_cell_backward",
    bindings=(
        write("dgi"),
        write("dgh"),
        write("dh_prev"),
        read("dh", optional=True),
        read("dh2", optional=True),
        read("dh3", optional=True),
        read("gi"),
        read("gh"),
        read("h_prev"),
        read("lengths", "i32", optional=True),
    ),
    params=_STEP + " dgi_offset, dgh_offset, dh_offset, dh2_offset, dh3_offset, gi_offset,"
    " gh_offset, h_prev_offset, lengths_offset: u32",
)
RNN_CELL = Kernel(
    "rnn_cell",
    bindings=(
        write("h"),
        read("gi"),
        read("gh"),
        read("h_prev", optional=True),
        read("lengths", "i32", optional=True),
    ),
    params=_STEP + " h_offset, gi_offset, gh_offset, h_prev_offset, lengths_offset: u32",
    consts="RELU: bool",
)
RNN_CELL_BACKWARD = Kernel(
    "rnn_cell_backward",
    bindings=(
        write("dgates"),
        write("carry"),
        read("dh", optional=True),
        read("dh2", optional=True),
        read("carry_in", optional=True),
        read("h"),
        read("lengths", "i32", optional=True),
    ),
    params=_STEP + " dgates_offset, dh_offset, dh2_offset, carry_in_offset, h_offset,"
    " lengths_offset: u32",
    consts="RELU: bool",
)

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _step(x: Tensor, t: int) -> Tensor:
    """The raw (B, ...) view of step t of contiguous (T, B, ...) x (no autograd)."""
    shape = x.shape[1:]
    size = 1
    for n in shape:
        size *= n
    return x._view(shape, None, x._offset + t * size)


def recurrence(mode, proj, h0, c0, w_hh, b_hh, w_hr=None, reverse=False, lengths=None):
    """Run one layer and direction over the steps of `proj` (T, B, gates * H).

    `h0` (B, Hout) and `c0` (B, H, LSTM only) are the initial states, `w_hh` (gates * H,
    Hout), `b_hh` (gates * H) or None, `w_hr` (Hout, H) the LSTM projection or None,
    `lengths` an int tensor (B) for packed sequences. Returns (output (T, B, Hout), h_n,
    c_n or None), differentiable in every tensor argument.
    """
    T, B, GH = proj.shape
    H = GH // GATES[mode]
    Hout = H if w_hr is None else w_hr.shape[0]
    lstm, gru = mode == "LSTM", mode == "GRU"
    relu = mode == "RNN_RELU"
    n_out = T * B * Hout
    order = list(range(T - 1, -1, -1) if reverse else range(T))
    packed = Tensor._empty((n_out + (B * H if lstm else 0),), float32)
    hs = packed._view((T, B, Hout), None, 0)
    # odd steps write their h into `alt`, so that no dispatch reads h_prev from the buffer
    # it writes (WebGPU forbids a buffer bound read-only and writable at once); one strided
    # copy moves them into place at the end
    alt = Tensor._empty((T, B, Hout), float32) if T > 1 else hs
    with autograd.no_grad():
        x = proj.detach().contiguous()
        wd = w_hh.detach()
        bd = None if b_hh is None else b_hh.detach()
        wr = None if w_hr is None else w_hr.detach()
        ms = Tensor._empty((T, B, H), float32) if wr is not None else None
        h = h0.detach().contiguous()
        c = c0.detach().contiguous() if lstm else None
        saved_gh, saved_c = {}, {}
        for s, t in enumerate(order):
            gi = _step(x, t)
            dest = hs if s % 2 == 0 else alt
            gh = linear(h, wd, bd)
            saved_gh[t] = gh
            step = {"hidden": H, "t": t, "lengths": lengths}
            if lstm:
                c_new = Tensor._empty((B, H))
                target = _step(dest, t) if wr is None else _step(ms, t)
                LSTM_CELL(
                    threads=B * H,
                    h=target,
                    c=c_new,
                    gi=gi,
                    gh=gh,
                    c_prev=c,
                    h_prev=h if lengths is not None else None,
                    **step,
                )
                saved_c[t] = c
                c = c_new
                if wr is not None:
                    copy_into(_step(dest, t), linear(target, wr))
            elif gru:
                GRU_CELL(threads=B * H, h=_step(dest, t), gi=gi, gh=gh, h_prev=h, **step)
            else:
                RNN_CELL(
                    threads=B * H,
                    h=_step(dest, t),
                    gi=gi,
                    gh=gh,
                    h_prev=h if lengths is not None else None,
                    RELU=relu,
                    **step,
                )
            h = _step(dest, t)
        if lstm:  # c_n into place (the last step may have written h into `packed`)
            copy_into(packed._view((B, H), None, n_out), c)
        if T > 1:  # the odd steps' h, from alt into place
            first = order[1]
            step_stride = (2 if first > order[0] else -2) * B * Hout
            count = T // 2
            if step_stride < 0:  # walk the odd steps upwards in memory
                first, step_stride = order[2 * count - 1], -step_stride
            view = (count, B, Hout), (step_stride, Hout, 1), first * B * Hout
            copy_into(packed._view(*view), alt._view(*view))

    def grad_fn(g, o):
        g = g.contiguous()
        g_hs = g._view((T, B, Hout), None, g._offset)
        d_gi = Tensor._empty((T, B, GH), float32)
        d_gh = Tensor._empty((T, B, GH), float32) if gru else d_gi
        d_hs = Tensor._empty((T, B, Hout), float32) if wr is not None else None
        dh_mat = None  # the gradient reaching h through the next step's hidden product
        carry = None  # GRU: the direct part; RNN: the pass-through of ended sequences
        if lstm:
            dstate = zeros(2, B, H)
            copy_into(_step(dstate, 0), g._view((B, H), None, g._offset + n_out))
        for t in reversed(order):
            step = {"hidden": H, "t": t, "lengths": lengths}
            gi, gh = _step(x, t), saved_gh[t]
            if lstm:
                dh, dh2 = dh_mat, _step(g_hs, t)
                if wr is not None:  # through the projection h = m W_hr^T
                    dh_full = _step(d_hs, t)
                    copy_into(dh_full, dh2 if dh is None else add(dh2, dh))
                    dh, dh2 = matmul(dh_full, wr), None
                new_state = Tensor._empty((2, B, H), float32)
                LSTM_CELL_BACKWARD(
                    threads=B * H,
                    dgates=_step(d_gi, t),
                    dstate=new_state,
                    dstate_in=dstate,
                    dh=dh,
                    dh2=dh2,
                    gi=gi,
                    gh=gh,
                    c_prev=saved_c[t],
                    batch=B,
                    **step,
                )
                dstate = new_state
            elif gru:
                h_prev = h0d if t == order[0] else _step(hs, t + (1 if reverse else -1))
                new_carry = Tensor._empty((B, H), float32)
                GRU_CELL_BACKWARD(
                    threads=B * H,
                    dgi=_step(d_gi, t),
                    dgh=_step(d_gh, t),
                    dh_prev=new_carry,
                    dh=dh_mat,
                    dh2=_step(g_hs, t),
                    dh3=carry,
                    gi=gi,
                    gh=gh,
                    h_prev=h_prev,
                    **step,
                )
                carry = new_carry
            else:
                new_carry = Tensor._empty((B, H), float32)
                RNN_CELL_BACKWARD(
                    threads=B * H,
                    dgates=_step(d_gi, t),
                    carry=new_carry,
                    dh=dh_mat,
                    dh2=_step(g_hs, t),
                    carry_in=carry,
                    h=_step(hs, t),
                    RELU=relu,
                    **step,
                )
                carry = new_carry
            dh_mat = matmul(_step(d_gh, t), wd)
        # the states before each step, in time order: h0 enters at the first step
        if T > 1:
            rest = narrow(hs, 0, 1, T - 1) if reverse else narrow(hs, 0, 0, T - 1)
            h_prev_all = cat([rest, h0d.unsqueeze(0)] if reverse else [h0d.unsqueeze(0), rest])
        else:
            h_prev_all = h0d.unsqueeze(0)
        flat_gh = d_gh.reshape(T * B, GH)
        gw_hh = matmul(flat_gh.t(), h_prev_all.reshape(T * B, Hout)) if w_hh.requires_grad else None
        gb_hh = flat_gh.sum(0) if b_hh is not None and b_hh.requires_grad else None
        gw_hr = None
        if wr is not None and w_hr.requires_grad:
            gw_hr = matmul(d_hs.reshape(T * B, Hout).t(), ms.reshape(T * B, H))
        if lstm:
            dc0 = _step(dstate, 0)
            if wr is not None:  # no carry: packed sequences are refused with a projection
                dh0 = dh_mat
            else:
                dh0 = add(dh_mat, _step(dstate, 1))
        else:
            dc0 = None
            dh0 = dh_mat if carry is None else add(dh_mat, carry)
        return d_gi, dh0, dc0, gw_hh, gb_hh, gw_hr

    h0d = h0.detach().contiguous()
    packed = autograd.record(
        packed,
        "RnnBackward0" if not lstm else "LstmBackward0",
        (proj, h0, c0, w_hh, b_hh, w_hr),
        grad_fn,
    )
    out = narrow(packed, 0, 0, n_out).view(T, B, Hout)
    h_n = out[order[-1]]
    c_n = narrow(packed, 0, n_out, B * H).view(B, H) if lstm else None
    return out, h_n, c_n
