"""engine/nn/architecture.py with the sequence layers: Embedding, RNN, LSTM, GRU."""

import pytest

from engine import nn
from engine.nn.architecture import _parameter_count, build, describe


@pytest.mark.parametrize(
    "layer",
    [
        nn.Embedding(11, 5),
        nn.RNN(3, 4, num_layers=3, bidirectional=True),
        nn.LSTM(3, 6, num_layers=2, proj_size=2, bidirectional=True, bias=False),
        nn.GRU(5, 4),
    ],
    ids=repr,
)
def test_parameter_count_is_the_layers(layer):
    description = describe(layer)
    arguments = {k: v for k, v in description.items() if k not in ("type", "format_version")}
    count = sum(p.numel() for p in layer.parameters())
    assert _parameter_count(description["type"], arguments) == count
    assert build(description, max_parameters=count) is not None
    with pytest.raises(ValueError, match="more parameters"):
        build(description, max_parameters=count - 1)


def test_recurrent_layers_in_a_module_dict_round_trip():
    model = nn.ModuleDict({"embed": nn.Embedding(10, 4), "lstm": nn.LSTM(4, 8, batch_first=True)})
    rebuilt = build(describe(model))
    assert list(rebuilt.state_dict()) == list(model.state_dict())
    assert repr(rebuilt) == repr(model)


def test_bad_recurrent_descriptions():
    description = describe(nn.GRU(3, 4))
    with pytest.raises(ValueError, match="GRU.hidden_size must be an int >= 0"):
        build({**description, "hidden_size": -1})
    with pytest.raises(ValueError, match="GRU: hidden_size must be a positive integer"):
        build({**description, "hidden_size": 0})
    with pytest.raises(ValueError, match="unknown field"):
        build({**description, "proj_size": 1})
    embed = describe(nn.Embedding(5, 2))
    with pytest.raises(ValueError, match="Padding_idx must be within num_embeddings"):
        build({**embed, "padding_idx": 9})
