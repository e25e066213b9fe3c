"""Recurrent layers, as ``torch.nn.modules.rnn``: RNN, LSTM, GRU and their cells.

Each layer and direction is one input projection GEMM over all time steps
(``F.linear``) and ``engine.ops.recurrent.recurrence``: two dispatches per step (the
hidden-state product with b_hh, then a fused cell kernel), with a fused backward.
Parameter names, shapes, initialization and outputs are PyTorch's, so state dicts move
both ways. A PackedSequence is run padded, with each sequence's length masking the steps
after its end.
"""

import math

import engine
from engine.ops.recurrent import GATES, recurrence

from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module, _check_device


class RNNBase(Module):
    """The multi-layer, optionally bidirectional recurrent layer behind RNN, LSTM, GRU."""

    def __init__(
        self,
        mode,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        _check_device(device)
        name = type(self).__name__
        if (
            not isinstance(dropout, (int, float))
            or not 0 <= dropout <= 1
            or isinstance(dropout, bool)
        ):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of "
                "an element being zeroed"
            )
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive integer, got {hidden_size}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive integer, got {num_layers}")
        if proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
            )
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                sfx = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [
                    ("weight_ih", (gate_size, layer_input)),
                    ("weight_hh", (gate_size, real_hidden)),
                ]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for base, shape in shapes:
                    setattr(self, base + sfx, Parameter(engine.empty(*shape)))
                    self._flat_weights_names.append(base + sfx)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _weights(self, layer, direction):
        sfx = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        get = lambda base: getattr(self, base + sfx, None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_hr")

    def _check_hidden(self, hx, expected, which=None):
        if tuple(hx.shape) != tuple(expected):
            label = "hidden" if which is None else f"hidden[{which}]"
            raise RuntimeError(
                f"{type(self).__name__}: Expected {label} size {tuple(expected)}, got "
                f"{list(hx.shape)}"
            )

    def forward(self, input, hx=None):
        from ..utils.rnn import PackedSequence, _packed_to_padded, _padded_to_packed

        name = type(self).__name__
        lstm = self.mode == "LSTM"
        directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        packed_input = input if isinstance(input, PackedSequence) else None
        lengths = None
        if packed_input is not None:
            if self.proj_size > 0:
                raise NotImplementedError("LSTM with proj_size on a PackedSequence")
            x, lengths_list = _packed_to_padded(packed_input)
            lengths = engine.tensor(lengths_list, dtype=engine.int32)
            batched = True
        else:
            if input.ndim not in (2, 3):
                raise ValueError(
                    f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead"
                )
            batched = input.ndim == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{name}: input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {x.shape[-1]}"
            )
        B = x.shape[1]
        count = self.num_layers * directions
        h_shape = (count, B, real_hidden)
        c_shape = (count, B, self.hidden_size)
        if hx is None:
            h0 = engine.zeros(*h_shape)
            c0 = engine.zeros(*c_shape) if lstm else None
        else:
            if lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise RuntimeError(f"{name}: expected hx to be a tuple (h_0, c_0)")
                h0, c0 = hx
            else:
                h0, c0 = hx, None
            if not batched:
                if h0.ndim != 2:
                    raise RuntimeError(
                        f"{name}: For unbatched 2-D input, hx should also be 2-D but got "
                        f"{h0.ndim}-D tensor"
                    )
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if lstm else None
            elif packed_input is not None and packed_input.sorted_indices is not None:
                h0 = h0.index_select(1, packed_input.sorted_indices)
                c0 = c0.index_select(1, packed_input.sorted_indices) if lstm else None
            self._check_hidden(h0, h_shape, 0 if lstm else None)
            if lstm:
                self._check_hidden(c0, c_shape, 1)
        layer_input = x
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, direction)
                k = layer * directions + direction
                proj = F.linear(layer_input, w_ih, b_ih)
                out, h_last, c_last = recurrence(
                    self.mode,
                    proj,
                    h0[k],
                    c0[k] if lstm else None,
                    w_hh,
                    b_hh,
                    w_hr,
                    reverse=direction == 1,
                    lengths=lengths,
                )
                outputs.append(out)
                h_n.append(h_last)
                c_n.append(c_last)
            layer_input = outputs[0] if directions == 1 else engine.cat(outputs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        output = layer_input
        h_n = engine.stack(h_n)
        c_n = engine.stack(c_n) if lstm else None
        if packed_input is not None:
            output = _padded_to_packed(output, packed_input)
            if packed_input.unsorted_indices is not None:
                h_n = h_n.index_select(1, packed_input.unsorted_indices)
                c_n = c_n.index_select(1, packed_input.unsorted_indices) if lstm else None
        elif not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if lstm else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if lstm else (output, h_n)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    r"""Elman RNN: :math:`h_t = \tanh(x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh})`
    (``nonlinearity='relu'`` for ReLU). Returns ``(output, h_n)``."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode,
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )


class LSTM(RNNBase):
    r"""Long short-term memory (gates i, f, g, o), optionally with a projection of h
    (``proj_size``). Returns ``(output, (h_n, c_n))``."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )


class GRU(RNNBase):
    r"""Gated recurrent unit (gates r, z, n). Returns ``(output, h_n)``."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )


class RNNCellBase(Module):
    def __init__(self, mode, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        _check_device(device)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gate_size = GATES[mode] * hidden_size
        self.weight_ih = Parameter(engine.empty(gate_size, input_size))
        self.weight_hh = Parameter(engine.empty(gate_size, hidden_size))
        if bias:
            self.bias_ih = Parameter(engine.empty(gate_size))
            self.bias_hh = Parameter(engine.empty(gate_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        return s

    def _step(self, input, hx):
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.input_size:
            raise RuntimeError(
                f"{name}: input has inconsistent input_size: got {x.shape[1]} expected "
                f"{self.input_size}"
            )
        B, lstm = x.shape[0], self.mode == "LSTM"
        if hx is None:
            h0 = engine.zeros(B, self.hidden_size)
            c0 = engine.zeros(B, self.hidden_size) if lstm else None
        else:
            h0, c0 = hx if lstm else (hx, None)
            if not batched:
                h0 = h0.unsqueeze(0)
                c0 = c0.unsqueeze(0) if lstm else None
            for k, state in enumerate((h0, c0) if lstm else (h0,)):
                if tuple(state.shape) != (B, self.hidden_size):
                    label = f"hidden[{k}]" if lstm else "hidden"
                    raise RuntimeError(
                        f"{name}: Expected {label} size {(B, self.hidden_size)}, got "
                        f"{list(state.shape)}"
                    )
        proj = F.linear(x, self.weight_ih, self.bias_ih).unsqueeze(0)
        _, h, c = recurrence(self.mode, proj, h0, c0, self.weight_hh, self.bias_hh)
        if not batched:
            h = h.squeeze(0)
            c = c.squeeze(0) if lstm else None
        return (h, c) if lstm else h


class RNNCell(RNNCellBase):
    r"""One Elman RNN step: :math:`h' = \tanh(x W_{ih}^T + b_{ih} + h W_{hh}^T + b_{hh})`."""

    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx)


class LSTMCell(RNNCellBase):
    r"""One LSTM step: returns ``(h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx)


class GRUCell(RNNCellBase):
    r"""One GRU step: returns ``h'``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx)
