"""describe/build: a model of the library's own layers round-trips through its description."""

import json
from collections import OrderedDict

import pytest

import engine
from engine import nn
from engine.nn.architecture import FORMAT_VERSION, build, describe


def round_trip(model):
    """build(describe(model)) through JSON text, as the hub stores it."""
    description = describe(model)
    assert description is not None
    return build(json.loads(json.dumps(description)))


def assert_same_state(rebuilt, model):
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    actual = {name: tuple(t.shape) for name, t in rebuilt.state_dict().items()}
    assert list(actual) == list(expected)
    assert actual == expected


def test_mlp_description():
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(p=0.1), nn.Linear(128, 10))
    assert describe(model) == {
        "format_version": FORMAT_VERSION,
        "type": "Sequential",
        "children": [
            {"name": "0", "type": "Linear", "in_features": 64, "out_features": 128, "bias": True},
            {"name": "1", "type": "ReLU"},
            {"name": "2", "type": "Dropout", "p": 0.1},
            {"name": "3", "type": "Linear", "in_features": 128, "out_features": 10, "bias": True},
        ],
    }


EVERY_LAYER = [
    nn.Linear(3, 4),
    nn.Linear(3, 4, bias=False),
    nn.Identity(),
    nn.Flatten(0, 1),
    nn.ReLU(),
    nn.GELU(approximate="tanh"),
    nn.Sigmoid(),
    nn.Tanh(),
    nn.Softmax(dim=1),
    nn.Softmax(),
    nn.LogSoftmax(dim=-1),
    nn.LeakyReLU(negative_slope=0.2),
    nn.Dropout(p=0.25),
    nn.Embedding(7, 3, padding_idx=2, max_norm=1.5),
    nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bias=False, batch_first=True),
    nn.LSTM(3, 4, bidirectional=True, proj_size=2, dropout=0.1),
    nn.GRU(3, 4, num_layers=2, bidirectional=True),
]


@pytest.mark.parametrize("layer", EVERY_LAYER, ids=repr)
def test_every_layer_round_trips_with_its_arguments(layer):
    rebuilt = round_trip(layer)
    assert type(rebuilt) is type(layer)
    assert repr(rebuilt) == repr(layer)
    assert_same_state(rebuilt, layer)


def test_nested_containers_keep_names_and_order():
    model = nn.Sequential(
        OrderedDict(
            [
                ("features", nn.Sequential(nn.Flatten(), nn.Linear(8, 6), nn.GELU())),
                ("10", nn.Identity()),
                ("2", nn.Tanh()),
                (
                    "heads",
                    nn.ModuleDict(
                        {"b": nn.Linear(6, 2, bias=False), "a": nn.Linear(6, 3), "9": nn.ReLU()}
                    ),
                ),
                ("blocks", nn.ModuleList([nn.Linear(6, 6), nn.Sigmoid(), nn.Linear(6, 6)])),
            ]
        )
    )
    rebuilt = round_trip(model)
    assert repr(rebuilt) == repr(model)
    assert [name for name, _ in rebuilt.named_modules()] == [
        name for name, _ in model.named_modules()
    ]
    assert_same_state(rebuilt, model)


def test_rebuilt_model_computes_the_same_after_load_state_dict():
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(12, 16),
        nn.LeakyReLU(0.1),
        nn.Dropout(0.5),
        nn.Linear(16, 5),
        nn.LogSoftmax(dim=1),
    ).eval()
    rebuilt = round_trip(model)
    rebuilt.load_state_dict(model.state_dict(), strict=True)
    rebuilt.eval()
    x = engine.randn(4, 3, 4)
    with engine.no_grad():
        assert rebuilt(x).tolist() == model(x).tolist()


def test_build_accepts_json_text():
    model = nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=-1))
    assert repr(build(json.dumps(describe(model)))) == repr(model)


def test_empty_containers():
    for model in (nn.Sequential(), nn.ModuleList(), nn.ModuleDict()):
        rebuilt = round_trip(model)
        assert type(rebuilt) is type(model) and len(rebuilt) == 0


class TwoLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x).relu()


class MyLinear(nn.Linear):
    def forward(self, input):
        return super().forward(input) * 2


def test_unknown_modules_have_no_description():
    assert describe(TwoLayers()) is None
    # A subclass of a known layer may compute anything: not described either.
    assert describe(MyLinear(2, 2)) is None
    # One unknown module anywhere inside makes the whole model undescribable.
    assert describe(nn.Sequential(nn.Linear(2, 2), nn.ModuleList([TwoLayers()]))) is None


def test_extra_tensors_make_a_model_undescribable():
    # build() could not recreate a buffer or parameter added by hand.
    model = nn.Sequential(nn.Linear(2, 2))
    model.register_buffer("scale", engine.ones(2))
    assert describe(model) is None
    layer = nn.ReLU()
    layer.alpha = nn.Parameter(engine.ones(1))
    assert describe(layer) is None


def test_description_is_json():
    model = nn.Sequential(nn.Linear(2, 3), nn.GELU(), nn.Softmax(dim=None))
    assert json.loads(json.dumps(describe(model))) == describe(model)


LINEAR = {"name": "0", "type": "Linear", "in_features": 2, "out_features": 3, "bias": True}


def sequential(*children):
    return {"format_version": FORMAT_VERSION, "type": "Sequential", "children": list(children)}


@pytest.mark.parametrize(
    "description, message",
    [
        ({"type": "ReLU"}, "missing field 'format_version'"),
        ({"format_version": 99, "type": "ReLU"}, "format_version 99 is not supported"),
        ({"format_version": FORMAT_VERSION}, "missing field 'type'"),
        ({"format_version": FORMAT_VERSION, "type": "Conv2d"}, "unknown module type 'Conv2d'"),
        ({"format_version": FORMAT_VERSION, "type": "Sequential"}, "missing field 'children'"),
        (sequential({**LINEAR, "type": "Transformer"}), "unknown module type 'Transformer'"),
        (
            sequential({"name": "0", "type": "Linear", "in_features": 2, "bias": True}),
            "missing field 'out_features' of Linear (at model.children[0])",
        ),
        (sequential({"type": "ReLU"}), "missing field 'name' (at model.children[0])"),
        (sequential(LINEAR, {**LINEAR, "in_features": 3}), "duplicate child name '0'"),
        (sequential({**LINEAR, "in_features": "2"}), "Linear.in_features must be an int"),
        (sequential({**LINEAR, "bias": 1}), "Linear.bias must be a bool"),
        (sequential({**LINEAR, "kernel_size": 3}), "unknown field(s) 'kernel_size'"),
        (sequential({"name": "0", "type": "Dropout", "p": 2.0}), "dropout probability"),
        (
            {
                "format_version": FORMAT_VERSION,
                "type": "ModuleList",
                "children": [LINEAR | {"name": "x"}],
            },
            "a ModuleList child must be named '0'",
        ),
        (
            {"format_version": FORMAT_VERSION, "type": "Sequential", "children": {}},
            "must be a list",
        ),
        ([1, 2], "expected an object"),
        ("{not json", "not valid JSON"),
    ],
)
def test_malformed_descriptions_raise_value_error(description, message):
    with pytest.raises(ValueError, match="invalid model description|not valid JSON") as error:
        build(description)
    assert message in str(error.value)


def test_build_refuses_descriptions_larger_than_the_weights_given():
    from engine.nn.architecture import build, describe

    description = describe(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)))
    assert build(description, max_parameters=4 * 3 + 3 + 3 * 2 + 2) is not None
    forged = dict(description)
    forged["children"] = [
        {
            "name": "0",
            "type": "Linear",
            "in_features": 100_000,
            "out_features": 100_000,
            "bias": True,
        }
    ]
    with pytest.raises(ValueError, match="more parameters"):
        build(forged, max_parameters=23)
