"""Tests of engine/serialization.py: safetensors files written and read in pure Python.

Files we write are checked against the reference readers (safetensors.numpy, safetensors.torch)
and files the reference writer produced are read back by us.
"""

import asyncio
import io
import json
import struct

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import engine
from engine import serialization

ROUND_TRIP_CASES = [
    pytest.param(2.5, engine.float32, id="f32-0d"),
    pytest.param([1.0, -2.0, 0.5], engine.float32, id="f32-1d"),
    pytest.param([[0.25, 1e-30, -3e38], [7.0, 0.0, -0.0]], engine.float32, id="f32-2x3"),
    pytest.param(
        [[[float(i * 4 + j) / 3 for j in range(4)] for i in range(3)]] * 2,
        engine.float32,
        id="f32-2x3x4",
    ),
    pytest.param(-7, engine.int32, id="i32-0d"),
    pytest.param([[2**31 - 1, -(2**31)], [0, 5]], engine.int32, id="i32-2x2"),
    pytest.param(True, engine.bool, id="bool-0d"),
    pytest.param([[True, False, True], [False, False, True]], engine.bool, id="bool-2x3"),
]


def as_numpy(tensor):
    """The tensor's values as a NumPy array of its own dtype, for exact comparisons."""
    np_dtype = {engine.float32: np.float32, engine.int32: np.int32, engine.bool: np.bool_}
    return np.array(tensor.tolist(), dtype=np_dtype[tensor.dtype]).reshape(tuple(tensor.shape))


def assert_same(loaded, expected):
    assert loaded.dtype == expected.dtype
    assert tuple(loaded.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(as_numpy(loaded), as_numpy(expected))


def safetensors_file(header, buffer, header_text=None):
    """A file with the given header (a dict, or raw text) and data buffer, padded as usual."""
    text = header_text if header_text is not None else json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + buffer


@pytest.mark.parametrize("values, dtype", ROUND_TRIP_CASES)
def test_round_trip(values, dtype):
    tensor = engine.tensor(values, dtype=dtype)
    loaded = serialization.loads(serialization.dumps({"t": tensor}))
    assert list(loaded) == ["t"]
    assert_same(loaded["t"], tensor)


@pytest.mark.parametrize("shape", [(0,), (2, 0, 3)])
@pytest.mark.parametrize("dtype", [engine.float32, engine.int32, engine.bool])
def test_round_trip_empty(shape, dtype):
    tensor = engine.zeros(shape, dtype=dtype)
    loaded = serialization.loads(serialization.dumps({"empty": tensor}))["empty"]
    assert loaded.dtype == dtype
    assert tuple(loaded.shape) == shape


def test_layout_is_sorted_contiguous_and_padded():
    tensors = {
        "b": engine.tensor([1.0, 2.0, 3.0]),
        "a": engine.tensor([True, False, True], dtype=engine.bool),
        "c": engine.tensor([[1, 2]], dtype=engine.int32),
    }
    data = serialization.dumps(tensors, metadata={"format": "pt"})
    (header_size,) = struct.unpack("<Q", data[:8])
    assert header_size % 8 == 0
    header = json.loads(data[8 : 8 + header_size])
    assert header.pop("__metadata__") == {"format": "pt"}
    assert list(header) == ["a", "b", "c"]
    assert header["a"] == {"dtype": "BOOL", "shape": [3], "data_offsets": [0, 3]}
    assert header["b"] == {"dtype": "F32", "shape": [3], "data_offsets": [3, 15]}
    assert header["c"] == {"dtype": "I32", "shape": [1, 2], "data_offsets": [15, 23]}
    assert len(data) == 8 + header_size + 23
    assert serialization.read_metadata(data) == {"format": "pt"}


def test_files_we_write_are_read_by_safetensors(tmp_path):
    tensors = {
        "weight": engine.tensor([[0.5, -1.25, 3.0], [1e-3, 2.0, -0.0]]),
        "bias": engine.tensor([0.125]),
        "scalar": engine.tensor(4.0),
        "steps": engine.tensor([[-3, 2**31 - 1]], dtype=engine.int32),
        "mask": engine.tensor([[True], [False]], dtype=engine.bool),
        "empty": engine.zeros((0, 4)),
    }
    metadata = {"format": "pt", "note": "ünïcode"}
    path = tmp_path / "model.safetensors"
    serialization.save_file(tensors, path, metadata=metadata)

    from_numpy = safetensors.numpy.load_file(path)
    from_torch = safetensors.torch.load_file(path)
    assert sorted(from_numpy) == sorted(from_torch) == sorted(tensors)
    for name, tensor in tensors.items():
        expected = as_numpy(tensor)
        assert from_numpy[name].dtype == expected.dtype
        np.testing.assert_array_equal(from_numpy[name], expected)
        np.testing.assert_array_equal(from_torch[name].numpy(), expected)
    with safetensors.safe_open(path, framework="np") as file:
        assert file.metadata() == metadata


@pytest.mark.parametrize(
    "torch_dtype",
    [
        torch.float32,
        torch.float16,
        torch.bfloat16,
        torch.float64,
        torch.int64,
        torch.int32,
        torch.int16,
        torch.int8,
        torch.uint8,
        torch.bool,
    ],
)
def test_files_written_by_torch_are_read(tmp_path, torch_dtype):
    if torch_dtype == torch.bool:
        source = torch.tensor([[True, False, True], [False, True, True]])
    elif torch_dtype.is_floating_point:
        source = torch.tensor([[1.0, -2.5, 0.1], [3.0e4, 1e-3, float("inf")]], dtype=torch_dtype)
    else:
        source = torch.tensor([[0, 1, 100], [-5, 7, 127]]).to(torch_dtype)
    path = tmp_path / "from_torch.safetensors"
    safetensors.torch.save_file({"x": source, "scalar": source[0, 1].clone()}, path)

    loaded = serialization.load_file(path)
    if torch_dtype == torch.bool:
        expected, dtype = source.numpy(), engine.bool
    elif torch_dtype.is_floating_point:
        expected, dtype = source.to(torch.float32).numpy(), engine.float32
    else:
        expected, dtype = source.to(torch.int32).numpy(), engine.int32
    assert loaded["x"].dtype == dtype
    assert tuple(loaded["x"].shape) == (2, 3)
    np.testing.assert_array_equal(as_numpy(loaded["x"]), expected)
    assert tuple(loaded["scalar"].shape) == ()
    np.testing.assert_array_equal(as_numpy(loaded["scalar"]), expected[0, 1])


def test_int64_loads_as_int32_alias():
    data = safetensors.torch.save({"i": torch.tensor([2**31 - 1, -(2**31)], dtype=torch.int64)})
    loaded = serialization.loads(data)["i"]
    assert loaded.dtype == engine.int64 == engine.int32
    assert loaded.tolist() == [2**31 - 1, -(2**31)]


def test_int64_out_of_int32_range_is_refused():
    data = safetensors.torch.save({"big": torch.tensor([1, 2**40], dtype=torch.int64)})
    with pytest.raises(ValueError, match=r"'big'.*do not fit in int32"):
        serialization.loads(data)


F32_PAIR = struct.pack("<2f", 1.0, 2.0)
CORRUPT_FILES = [
    pytest.param(b"\x10\x00\x00", r"too short", id="shorter-than-length"),
    pytest.param(
        struct.pack("<Q", 2**63) + b"{}", r"header length .* exceeds", id="huge-header-length"
    ),
    pytest.param(struct.pack("<Q", 64) + b'{"a": {}}', r"runs past the end", id="header-past-end"),
    pytest.param(
        safetensors_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"")[:-3],
        r"runs past the end",
        id="truncated-header",
    ),
    pytest.param(
        safetensors_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, F32_PAIR)[
            :-2
        ],
        r"'a'.*out of range",
        id="truncated-data",
    ),
    pytest.param(safetensors_file(None, b"", b'{"a": '), r"not valid JSON", id="bad-json"),
    pytest.param(safetensors_file(None, b"", b"\xff\xfe{}"), r"not valid UTF-8", id="bad-utf8"),
    pytest.param(safetensors_file([1, 2], b""), r"must be a JSON object", id="header-not-object"),
    pytest.param(
        safetensors_file(
            None,
            F32_PAIR * 2,
            b'{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, '
            b'"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}',
        ),
        r"'a' more than once",
        id="duplicate-name",
    ),
    pytest.param(
        safetensors_file({"a": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}, b"xx"),
        r"'a'.*unsupported dtype 'F8_E4M3'",
        id="unknown-dtype",
    ),
    pytest.param(
        safetensors_file({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, F32_PAIR),
        r"'a'.*needs 12 bytes.*span 8",
        id="shape-length-mismatch",
    ),
    pytest.param(
        safetensors_file({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, F32_PAIR),
        r"'a'.*shape",
        id="negative-shape",
    ),
    pytest.param(
        safetensors_file({"a": {"dtype": "F32", "shape": [2]}}, F32_PAIR),
        r"'a'.*exactly 'dtype', 'shape' and 'data_offsets'",
        id="missing-field",
    ),
    pytest.param(
        safetensors_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8]}}, F32_PAIR),
        r"'a'.*data_offsets",
        id="bad-offsets",
    ),
    pytest.param(
        safetensors_file({"a": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}}, F32_PAIR),
        r"'a'.*end before they begin",
        id="reversed-offsets",
    ),
    pytest.param(
        safetensors_file(
            {
                "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
            },
            F32_PAIR * 2,
        ),
        r"'b'.*overlap.*'a'",
        id="overlapping",
    ),
    pytest.param(
        safetensors_file(
            {
                "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]},
            },
            F32_PAIR * 2,
        ),
        r"'b'.*gap of 4 bytes after 'a'",
        id="gap-between",
    ),
    pytest.param(
        safetensors_file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, F32_PAIR),
        r"'a'.*gap of 4 bytes at the start",
        id="gap-at-start",
    ),
    pytest.param(
        safetensors_file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, F32_PAIR),
        r"4 unaccounted bytes at the end",
        id="trailing-bytes",
    ),
    pytest.param(
        safetensors_file({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, F32_PAIR),
        r"'a'.*out of range",
        id="out-of-range",
    ),
    pytest.param(
        safetensors_file({"__metadata__": {"n": 1}}, b""),
        r"'__metadata__' must be an object mapping str to str",
        id="metadata-not-str",
    ),
]


@pytest.mark.parametrize("data, message", CORRUPT_FILES)
def test_corrupt_files_raise_value_error(data, message):
    with pytest.raises(ValueError, match=message):
        serialization.parse_header(data)
    with pytest.raises(ValueError, match=message):
        serialization.loads(data)
    with pytest.raises(ValueError, match=message):
        serialization.load(io.BytesIO(data))


def test_parse_header_of_a_prefix():
    data = serialization.dumps({"w": engine.tensor([1.0, 2.0, 3.0])})
    header, data_start = serialization.parse_header(data[:-12], file_size=len(data))
    assert data_start == len(data) - 12
    assert header["w"] == {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}
    with pytest.raises(ValueError, match=r"unaccounted"):
        serialization.parse_header(data[:-12], file_size=len(data) + 1)


def optimizer_state_dict():
    """A state_dict shaped like `engine.optim.Adam(...).state_dict()`."""
    return {
        "state": {
            0: {
                "step": engine.tensor(3.0),
                "exp_avg": engine.tensor([[0.5, -1.0]]),
                "exp_avg_sq": engine.tensor([[0.25, 1.0]]),
            },
            1: {"step": 3, "momentum_buffer": None, "exp_avg": engine.tensor([2.0])},
        },
        "param_groups": [
            {
                "lr": 1e-3,
                "betas": (0.9, 0.999),
                "eps": 1e-8,
                "weight_decay": 0.0,
                "amsgrad": False,
                "maximize": False,
                "name": "all",
                "params": [0, 1],
            }
        ],
    }


def assert_same_structure(loaded, expected):
    assert type(loaded) is type(expected)
    if isinstance(expected, engine.Tensor):
        assert_same(loaded, expected)
    elif isinstance(expected, dict):
        assert list(loaded) == list(expected)
        for key in expected:
            assert_same_structure(loaded[key], expected[key])
    elif isinstance(expected, (list, tuple)):
        assert len(loaded) == len(expected)
        for a, b in zip(loaded, expected):
            assert_same_structure(a, b)
    else:
        assert loaded == expected


def test_optimizer_state_dict_round_trips(tmp_path):
    state = optimizer_state_dict()
    path = tmp_path / "optimizer.safetensors"
    engine.save(state, path)
    assert_same_structure(engine.load(path), state)

    # Still an ordinary safetensors file: its tensors are there under dotted names.
    from_torch = safetensors.torch.load_file(path)
    assert sorted(from_torch) == [
        "state.0.exp_avg",
        "state.0.exp_avg_sq",
        "state.0.step",
        "state.1.exp_avg",
    ]
    assert from_torch["state.0.exp_avg"].tolist() == [[0.5, -1.0]]


def test_flat_state_dict_is_plain_safetensors(tmp_path):
    state = {"fc.weight": engine.tensor([[1.0, 2.0]]), "fc.bias": engine.tensor([0.5])}
    path = str(tmp_path / "model.safetensors")
    engine.save(state, path)
    with safetensors.safe_open(path, framework="pt") as file:
        assert file.metadata() is None
    loaded = engine.load(path, map_location="cpu", weights_only=True)
    assert sorted(loaded) == ["fc.bias", "fc.weight"]
    assert_same(loaded["fc.weight"], state["fc.weight"])


def test_save_and_load_through_file_objects():
    buffer = io.BytesIO()
    engine.save({"a": engine.tensor([1, 2, 3], dtype=engine.int32), "n": 5}, buffer)
    buffer.seek(0)
    loaded = engine.load(buffer)
    assert loaded["n"] == 5
    assert loaded["a"].tolist() == [1, 2, 3]


def test_nested_names_that_collide_are_refused():
    with pytest.raises(ValueError, match=r"'a\.b'"):
        engine.save({"a.b": engine.tensor([1.0]), "a": {"b": engine.tensor([2.0])}}, io.BytesIO())


def test_unsupported_values_are_refused():
    with pytest.raises(TypeError, match=r"set"):
        engine.save({"a": {1, 2}}, io.BytesIO())
    with pytest.raises(TypeError, match=r"str -> str"):
        serialization.dumps({"a": engine.tensor([1.0])}, metadata={"n": 1})
    with pytest.raises(NotImplementedError, match=r"map_location"):
        engine.load(io.BytesIO(b""), map_location=lambda storage, location: storage)


def test_dumps_async_writes_the_same_bytes_as_dumps():
    """dumps_async (awaitable readbacks, for pages without JSPI) is dumps, byte for byte."""
    base = engine.arange(24.0).reshape(4, 6)
    tensors = {
        "weight": engine.randn(3, 5),
        "view": base.t()[1:4],  # not contiguous
        "steps": engine.tensor([3, -7], dtype=engine.int32),
        "mask": engine.tensor([True, False, True]),
        "empty": engine.zeros(0, 2),
        "scalar": engine.tensor(2.5),
    }
    metadata = {"note": "ünïcode", "engine.version": "x"}
    expected = serialization.dumps(tensors, metadata)
    assert asyncio.run(serialization.dumps_async(tensors, metadata)) == expected
    assert asyncio.run(serialization.dumps_async(tensors, None)) == serialization.dumps(tensors)
    with pytest.raises(TypeError, match="not a Tensor"):
        asyncio.run(serialization.dumps_async({"w": [1.0]}, None))
