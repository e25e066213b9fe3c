"""Self-describing models: a JSON description of a model built from the library's own layers.

``describe(model)`` writes the layers and their constructor arguments as plain JSON data;
``build(description)`` constructs a fresh model from it, with the same ``state_dict()`` keys
and shapes as the original, ready for ``load_state_dict``. The hub stores the description in
a model file's metadata, so that ``engine.hub.load_model`` needs none of the user's code::

    {"format_version": 1, "type": "Sequential", "children": [
        {"name": "0", "type": "Linear", "in_features": 64, "out_features": 128, "bias": true},
        {"name": "1", "type": "ReLU"},
        {"name": "2", "type": "Dropout", "p": 0.1},
        {"name": "3", "type": "Linear", "in_features": 128, "out_features": 10, "bias": true}]}

A container (Sequential, ModuleList, ModuleDict) lists its children in order, each with its
``name``: a list rather than a JSON object, because JavaScript reorders object keys that look
like integers. Only the exact classes below are described; anything else, including a user's
subclass of one of them, makes ``describe`` return ``None``.
"""

import json
from collections import OrderedDict

from .modules.activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .modules.container import ModuleDict, ModuleList, Sequential
from .modules.dropout import Dropout
from .modules.flatten import Flatten
from .modules.linear import Identity, Linear
from .modules.rnn import GRU, LSTM, RNN
from .modules.sparse import Embedding

FORMAT_VERSION = 1
# Containers in containers deeper than this are refused (ValueError), long before Python's
# recursion limit would turn a forged description into a RecursionError.
MAX_DEPTH = 100


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_optional_int(value):
    return value is None or _is_int(value)


def _is_size(value):
    return _is_int(value) and value >= 0


def _is_bool(value):
    return isinstance(value, bool)


def _is_optional_number(value):
    return value is None or _is_number(value)


# the constructor arguments of the recurrent layers (RNN adds nonlinearity, LSTM proj_size)
_RECURRENT = {
    "input_size": (_is_size, "an int >= 0"),
    "hidden_size": (_is_size, "an int >= 0"),
    "num_layers": (_is_size, "an int >= 0"),
    "bias": (_is_bool, "a bool"),
    "batch_first": (_is_bool, "a bool"),
    "dropout": (_is_number, "a number"),
    "bidirectional": (_is_bool, "a bool"),
}


# type name -> (class, {constructor argument: (check, what the check accepts)}).
# `inplace` flags are left out on purpose: they save memory but never change a result.
LAYERS = {
    "Linear": (
        Linear,
        {
            "in_features": (_is_int, "an int"),
            "out_features": (_is_int, "an int"),
            "bias": (lambda value: isinstance(value, bool), "a bool"),
        },
    ),
    "Identity": (Identity, {}),
    "Flatten": (Flatten, {"start_dim": (_is_int, "an int"), "end_dim": (_is_int, "an int")}),
    "ReLU": (ReLU, {}),
    "GELU": (GELU, {"approximate": (lambda value: value in ("none", "tanh"), "'none' or 'tanh'")}),
    "Sigmoid": (Sigmoid, {}),
    "Tanh": (Tanh, {}),
    "Softmax": (Softmax, {"dim": (_is_optional_int, "an int or null")}),
    "LogSoftmax": (LogSoftmax, {"dim": (_is_optional_int, "an int or null")}),
    "LeakyReLU": (LeakyReLU, {"negative_slope": (_is_number, "a number")}),
    "Dropout": (Dropout, {"p": (_is_number, "a number")}),
    "Embedding": (
        Embedding,
        {
            "num_embeddings": (_is_size, "an int >= 0"),
            "embedding_dim": (_is_size, "an int >= 0"),
            "padding_idx": (_is_optional_int, "an int or null"),
            "max_norm": (_is_optional_number, "a number or null"),
            "norm_type": (_is_number, "a number"),
            "scale_grad_by_freq": (_is_bool, "a bool"),
        },
    ),
    "RNN": (
        RNN,
        {**_RECURRENT, "nonlinearity": (lambda v: v in ("tanh", "relu"), "'tanh' or 'relu'")},
    ),
    "LSTM": (LSTM, {**_RECURRENT, "proj_size": (_is_size, "an int >= 0")}),
    "GRU": (GRU, dict(_RECURRENT)),
}


def _expected_tensors(module):
    """The names of the parameters a layer of this kind and these arguments holds."""
    if type(module) is Linear:
        return {"weight", "bias"} if module.bias is not None else {"weight"}
    if type(module) is Embedding:
        return {"weight"}
    if type(module) in (RNN, LSTM, GRU):
        return set(module._flat_weights_names)
    return set()


def _parameter_count(type_name, a):
    """How many parameter elements the layer `type_name` with arguments `a` holds."""
    if type_name == "Linear":
        return a["in_features"] * a["out_features"] + (a["out_features"] if a["bias"] else 0)
    if type_name == "Embedding":
        return a["num_embeddings"] * a["embedding_dim"]
    if type_name in ("RNN", "LSTM", "GRU"):
        gates = {"RNN": 1, "LSTM": 4, "GRU": 3}[type_name] * a["hidden_size"]
        directions = 2 if a["bidirectional"] else 1
        proj = a.get("proj_size", 0)
        real = proj or a["hidden_size"]
        total = 0
        for layer in range(a["num_layers"]):
            inputs = a["input_size"] if layer == 0 else real * directions
            one = gates * (inputs + real) + (2 * gates if a["bias"] else 0)
            total += directions * (one + proj * a["hidden_size"])
        return total
    return 0


CONTAINERS = {"Sequential": Sequential, "ModuleList": ModuleList, "ModuleDict": ModuleDict}


# ----------------------------------------------------------------------------- describe


def _own_tensors(module):
    """The names of the parameters and buffers `module` holds itself (not its children's)."""
    names = {name for name, value in module._parameters.items() if value is not None}
    return names | {name for name, value in module._buffers.items() if value is not None}


def _describe(module):
    """The description of `module` without `format_version`, or None if it has no description."""
    for type_name, container in CONTAINERS.items():
        if type(module) is container:
            if _own_tensors(module):
                return None
            children = []
            for name, child in module._modules.items():
                child_description = None if child is None else _describe(child)
                if child_description is None:
                    return None
                children.append({"name": name, **child_description})
            return {"type": type_name, "children": children}

    for type_name, (layer, fields) in LAYERS.items():
        if type(module) is layer:
            if module._modules:
                return None
            description = {"type": type_name}
            for field, (check, _) in fields.items():
                if field == "bias" and layer is Linear:
                    value = module.bias is not None
                else:
                    value = getattr(module, field)
                if not check(value):
                    return None
                description[field] = value
            if _own_tensors(module) != _expected_tensors(module):
                return None
            return description
    return None


def describe(module):
    """A JSON-able dict describing `module`, or None if it is not built from known layers.

    The known layers are Sequential, ModuleList, ModuleDict, Linear, Identity, Flatten, ReLU,
    GELU, Sigmoid, Tanh, Softmax, LogSoftmax, LeakyReLU, Dropout, Embedding, RNN, LSTM and
    GRU, nested in any way (the recurrent layers return tuples: describable in a ModuleDict
    or ModuleList, not useful inside a Sequential).
    ``build(describe(module))`` has the same ``state_dict()`` keys and shapes as `module`.
    """
    description = _describe(module)
    if description is None:
        return None
    return {"format_version": FORMAT_VERSION, **description}


# ----------------------------------------------------------------------------- build


def _fail(path, message):
    raise ValueError(f"invalid model description: {message} (at {path})")


def _check_keys(description, allowed, path):
    unknown = sorted(set(description) - allowed)
    if unknown:
        _fail(path, f"unknown field(s) {', '.join(map(repr, unknown))}")


def _build_children(children, container_type, path, budget, depth):
    if not isinstance(children, list):
        _fail(path, f"'children' must be a list, got {type(children).__name__}")
    modules = OrderedDict()
    for index, child in enumerate(children):
        child_path = f"{path}.children[{index}]"
        if not isinstance(child, dict):
            _fail(child_path, f"expected an object, got {type(child).__name__}")
        if "name" not in child:
            _fail(child_path, "missing field 'name'")
        name = child["name"]
        if not isinstance(name, str) or not name or "." in name:
            _fail(child_path, f"'name' must be a non-empty str without dots, got {name!r}")
        if name in modules:
            _fail(child_path, f"duplicate child name {name!r}")
        if container_type == "ModuleList" and name != str(index):
            _fail(child_path, f"a ModuleList child must be named {str(index)!r}, got {name!r}")
        body = {key: value for key, value in child.items() if key != "name"}
        modules[name] = _build(body, child_path, budget, depth + 1)
    return modules


def _build(description, path, budget, depth=0):
    if not isinstance(description, dict):
        _fail(path, f"expected an object, got {type(description).__name__}")
    if depth > MAX_DEPTH:
        _fail("model", f"containers nested more than {MAX_DEPTH} deep")
    if "type" not in description:
        _fail(path, "missing field 'type'")
    type_name = description["type"]
    if not isinstance(type_name, str):
        _fail(path, f"'type' must be a str, got {type_name!r}")

    if type_name in CONTAINERS:
        _check_keys(description, {"type", "children"}, path)
        if "children" not in description:
            _fail(path, f"missing field 'children' of {type_name}")
        modules = _build_children(description["children"], type_name, path, budget, depth)
        if type_name == "Sequential":
            return Sequential(modules)
        if type_name == "ModuleList":
            return ModuleList(modules.values())
        return ModuleDict(modules)

    if type_name not in LAYERS:
        known = ", ".join(sorted([*CONTAINERS, *LAYERS]))
        _fail(path, f"unknown module type {type_name!r} (known: {known})")
    layer, fields = LAYERS[type_name]
    _check_keys(description, {"type", *fields}, path)
    arguments = {}
    for field, (check, accepted) in fields.items():
        if field not in description:
            _fail(path, f"missing field {field!r} of {type_name}")
        value = description[field]
        if not check(value):
            _fail(path, f"{type_name}.{field} must be {accepted}, got {value!r}")
        arguments[field] = value
    if budget is not None:
        # checked before allocating: a forged description must not make us allocate
        # far more than the file it came with holds
        count = _parameter_count(type_name, arguments)
        if count > budget[0]:
            _fail(path, "describes more parameters than the weights that come with it")
        budget[0] -= count
    try:
        return layer(**arguments)
    except (ValueError, AssertionError) as error:
        _fail(path, f"{type_name}: {error}")


def build(description, max_parameters=None):
    """A new Module built from `description` (a dict from `describe`, or its JSON text).

    The parameters are freshly initialised; load the trained ones with ``load_state_dict``.
    Raises ValueError, naming the place and the problem, for a description that is malformed,
    names an unknown module type, lacks a field, nests containers more than MAX_DEPTH deep
    (or its JSON deeper than Python's parser can go), or has a newer ``format_version``, and
    (with `max_parameters`) for one describing more parameter elements than that.
    """
    if isinstance(description, (str, bytes)):
        try:
            description = json.loads(description)
        except json.JSONDecodeError as error:
            raise ValueError(f"model description is not valid JSON: {error}") from None
        except RecursionError:
            raise ValueError("model description is not valid JSON: nested too deeply") from None
    if not isinstance(description, dict):
        _fail("model", f"expected an object, got {type(description).__name__}")
    if "format_version" not in description:
        _fail("model", "missing field 'format_version'")
    version = description["format_version"]
    if version != FORMAT_VERSION:
        _fail(
            "model",
            f"format_version {version!r} is not supported (this engine reads {FORMAT_VERSION})",
        )
    body = {key: value for key, value in description.items() if key != "format_version"}
    budget = None if max_parameters is None else [max_parameters]
    return _build(body, "model", budget)
