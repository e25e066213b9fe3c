"""POST /api/models/{owner}/{name}/versions (server/routes/push.py, server/uploads.py):
what is accepted, and that every refusal leaves storage exactly as it was."""

import asyncio
import hashlib
import io
import struct

import hypothesis
import pytest
import safetensors.torch
import torch
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

import engine
import server.uploads
from engine.serialization import dumps
from tests.server.conftest import bearer, model_file, safetensors_file

PUSH = "/api/models/{}/{}/versions"


def push(client, data, headers, owner="alice", name="mlp"):
    return client.post(PUSH.format(owner, name), content=data, headers=headers)


def test_push_engine_file(client, alice, settings):
    data = dumps(
        {"fc.weight": engine.ones(2, 3), "fc.bias": engine.zeros(2)},
        metadata={"architecture": "mlp", "accuracy": "0.97"},
    )
    response = push(client, data, alice)
    assert response.status_code == 201
    record = response.json()
    assert response.headers["location"] == "/api/models/alice/mlp/versions/1"
    assert record["version"] == 1
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["size"] == len(data)
    assert record["created_at"].endswith("Z")
    assert record["metadata"] == {"architecture": "mlp", "accuracy": "0.97"}
    assert record["tensors"] == {
        "fc.bias": {"dtype": "F32", "shape": [2]},
        "fc.weight": {"dtype": "F32", "shape": [2, 3]},
    }
    sha = record["sha256"]
    assert (settings.data_dir / "blobs" / sha[:2] / sha[2:]).read_bytes() == data


def test_push_torch_file(client, alice, tmp_path):
    path = tmp_path / "model.safetensors"
    safetensors.torch.save_file(
        {"weight": torch.arange(6, dtype=torch.float32).reshape(2, 3), "steps": torch.tensor([3])},
        path,
        metadata={"framework": "torch"},
    )
    response = push(client, path.read_bytes(), alice)
    assert response.status_code == 201
    assert response.json()["tensors"] == {
        "steps": {"dtype": "I64", "shape": [1]},
        "weight": {"dtype": "F32", "shape": [2, 3]},
    }
    assert response.json()["metadata"] == {"framework": "torch"}


def test_versions_count_up_and_identical_content_is_stored_once(client, alice, settings):
    data = model_file()
    assert [push(client, data, alice).json()["version"] for _ in range(3)] == [1, 2, 3]
    assert push(client, data, alice, name="other").json()["version"] == 1
    assert len([p for p in (settings.data_dir / "blobs").rglob("*") if p.is_file()]) == 1


def test_streamed_body_without_content_length(client, alice):
    data = model_file(values=[0.5] * 1000)
    chunks = (data[i : i + 1000] for i in range(0, len(data), 1000))
    response = push(client, chunks, alice)
    assert response.status_code == 201, response.text
    assert response.json()["sha256"] == hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "owner, name",
    [("al..ice", "mlp"), ("alice", "-mlp"), ("alice", "a" * 65), ("alice", "m l p"), ("é", "x")],
)
def test_bad_names(client, alice, no_trace, owner, name):
    response = push(client, model_file(), alice, owner=owner, name=name)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_name"
    no_trace()


def test_no_token(client, no_trace):
    for headers in [{}, {"Authorization": "Basic YTpi"}, {"Authorization": "Bearer"}]:
        response = push(client, model_file(), headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["error"]["code"] == "unauthorized"
    no_trace()


def test_invalid_token(client, no_trace):
    response = push(client, model_file(), bearer("not-a-token"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    no_trace()


def test_token_of_another_owner(client, token_for, no_trace):
    response = push(client, model_file(), bearer(token_for("bob")))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    no_trace()


def test_too_large_by_content_length(client, alice, settings, no_trace):
    data = model_file(values=[1.0] * (settings.max_upload_bytes // 4))
    response = push(client, data, alice)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    no_trace()


def test_too_large_while_streaming(client, alice, settings, no_trace):
    data = model_file(values=[1.0] * (settings.max_upload_bytes // 4))
    chunks = (data[i : i + 4096] for i in range(0, len(data), 4096))
    response = push(client, chunks, alice)
    assert response.status_code == 413
    no_trace()


def test_bad_content_length(client, alice, no_trace):
    headers = {**alice, "Content-Length": "12x"}
    response = push(client, model_file(), headers)
    assert response.status_code == 400
    no_trace()


F32x2 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}

BROKEN_FILES = {
    "empty": (b"", "empty"),
    "too short": (b"\x10\x00\x00", "too short"),
    "truncated data": (model_file()[:-3], "out of range"),
    "truncated header": (model_file()[:20], "runs past the end of the file"),
    "header length too large": (
        safetensors_file({"a": F32x2}, b"\0" * 8, header_size=2**40),
        "exceeds the limit",
    ),
    "header length past the end": (
        safetensors_file({"a": F32x2}, b"\0" * 8, header_size=1000),
        "runs past the end",
    ),
    "bad JSON": (safetensors_file(b'{"a": {"dtype": "F32",', b""), "not valid JSON"),
    "deeply nested JSON": (safetensors_file(b"[" * 20_000, b""), "not valid JSON"),
    "not UTF-8": (safetensors_file(b'{"\xff": 1}', b""), "not valid UTF-8"),
    "not an object": (safetensors_file(b"[1, 2]", b""), "must be a JSON object"),
    "duplicate names": (
        safetensors_file(
            b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},'
            b' "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}',
            b"\0" * 8,
        ),
        "more than once",
    ),
    "bad metadata": (safetensors_file({"__metadata__": {"epochs": 3}}), "__metadata__"),
    "unknown dtype": (
        safetensors_file({"a": {"dtype": "F99", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8),
        "unsupported dtype 'F99'",
    ),
    "dtype a list": (
        safetensors_file(
            {"a": {"dtype": ["F32"], "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8
        ),
        "unsupported dtype ['F32']",
    ),
    "dtype an object": (
        safetensors_file({"a": {"dtype": {"F32": 1}, "shape": [2], "data_offsets": [0, 8]}}),
        "unsupported dtype {'F32': 1}",
    ),
    "missing field": (
        safetensors_file({"a": {"dtype": "F32", "shape": [2]}}, b"\0" * 8),
        "entry must have exactly",
    ),
    "negative shape": (
        safetensors_file({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}),
        "not a list of sizes",
    ),
    "a size past 64 bits": (
        safetensors_file({"a": {"dtype": "F32", "shape": [2**64, 0], "data_offsets": [0, 0]}}),
        "too large",
    ),
    "sizes whose product overflows 64 bits": (
        safetensors_file({"a": {"dtype": "F32", "shape": [2**63, 2, 0], "data_offsets": [0, 0]}}),
        "too large",
    ),
    "a size past what PyTorch can hold": (
        safetensors_file({"a": {"dtype": "F32", "shape": [0, 2**63], "data_offsets": [0, 0]}}),
        "too large",
    ),
    "a size of -0": (
        safetensors_file(b'{"a": {"dtype": "F32", "shape": [-0], "data_offsets": [0, 0]}}'),
        "-0 is not an integer",
    ),
    "overlapping offsets": (
        safetensors_file(
            {"a": F32x2, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}},
            b"\0" * 12,
        ),
        "overlap",
    ),
    "gap": (
        safetensors_file(
            {"a": F32x2, "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}},
            b"\0" * 20,
        ),
        "gap of 4 bytes",
    ),
    "shape and size disagree": (
        safetensors_file({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8),
        "needs 12 bytes",
    ),
    "trailing bytes": (model_file() + b"extra", "unaccounted"),
    "offsets past the data": (
        safetensors_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, b"\0" * 8),
        "out of range",
    ),
}


@pytest.mark.parametrize("kind", BROKEN_FILES)
def test_broken_safetensors(client, alice, no_trace, kind):
    data, problem = BROKEN_FILES[kind]
    response = push(client, data, alice)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_safetensors"
    assert problem in error["message"]
    no_trace()


@pytest.mark.parametrize("kind", ["header length too large", "truncated data", "gap"])
def test_broken_safetensors_streamed(client, alice, no_trace, kind):
    data, problem = BROKEN_FILES[kind]
    response = push(client, (data[i : i + 5] for i in range(0, len(data), 5)), alice)
    assert response.status_code == 422
    assert problem in response.json()["error"]["message"]
    no_trace()


@hypothesis.settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=4),
    cut=st.integers(0, 250),
)
def test_mutated_files_are_refused_or_intact(client, alice, settings, edits, cut):
    """A valid file with some bytes changed and maybe cut short: 422, or a version that
    holds exactly the bytes sent. Never a 500, never a temporary file left behind."""
    data = bytearray(model_file(metadata={"k": "v"}))
    for position, value in edits:
        data[position % len(data)] = value
    data = bytes(data[: max(cut, 1)] if cut < len(data) else data)
    response = push(client, data, alice)
    assert response.status_code in (201, 422), response.text
    if response.status_code == 201:
        url = response.headers["location"] + "/file"
        assert client.get(url).content == data
    assert list((settings.data_dir / "tmp").iterdir()) == []


class StreamedRequest:
    """Just enough of a Starlette request for `receive_upload`: headers and a body stream."""

    def __init__(self, chunks, headers=None):
        self.chunks, self.headers = chunks, headers or {}

    async def stream(self):
        for chunk in self.chunks:
            yield chunk


def test_uploads_are_spooled_not_buffered(app, settings, monkeypatch):
    """The body goes to disk in batches as it arrives: the memory held is one batch."""
    monkeypatch.setattr(server.uploads, "WRITE_BATCH_BYTES", 1024)
    writes = []
    original = server.uploads._write

    def counting_write(file, hasher, chunks):
        writes.append(sum(map(len, chunks)))
        original(file, hasher, chunks)

    monkeypatch.setattr(server.uploads, "_write", counting_write)
    data = model_file(values=[2.0] * 4000)
    request = StreamedRequest([data[i : i + 512] for i in range(0, len(data), 512)])
    upload = asyncio.run(server.uploads.receive_upload(request, settings))
    assert upload.path.read_bytes() == data
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert len(writes) > 10 and max(writes) <= 1024 + 512
    upload.path.unlink()


def test_token_header_is_checked_before_the_body_is_read(client, no_trace):
    read = io.BytesIO(model_file())

    def body():
        yield read.read()

    assert push(client, body(), {}).status_code == 401
    no_trace()


def test_header_length_is_refused_before_the_rest_arrives(client, alice, no_trace):
    """With a Content-Length, an impossible header length fails on the first 8 bytes."""
    sent = []

    def body():
        for chunk in [struct.pack("<Q", 10**6), b"x" * 1000, b"y" * 1000]:
            sent.append(chunk)
            yield chunk

    headers = {**alice, "Content-Length": "2008"}
    response = push(client, body(), headers)
    assert response.status_code == 422
    assert "runs past the end" in response.json()["error"]["message"]
    no_trace()


# A lone UTF-16 surrogate, as the header's JSON spells it ("\ud800"): json.dumps escapes it.
LONE_SURROGATE_FILES = {
    "metadata value": model_file(metadata={"note": "x\ud800y"}),
    "metadata key": model_file(metadata={"\udc00": "v"}),
    "tensor name": safetensors_file({"w\ud800": F32x2}, b"\0" * 8),
}


@pytest.mark.parametrize("where", LONE_SURROGATE_FILES)
def test_lone_surrogate_is_refused_before_anything_is_stored(client, alice, no_trace, where):
    response = push(client, LONE_SURROGATE_FILES[where], alice)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_safetensors"
    assert "surrogate" in response.json()["error"]["message"]
    no_trace()
    assert client.get("/api/models").status_code == 200


def test_surrogate_pairs_are_characters_and_every_read_still_works(client, alice):
    """A pair such as \ud83d\ude00 is one character (U+1F600): stored, and read back."""
    header = {"w\ud83d\ude00": F32x2, "__metadata__": {"e": "\U0001f600"}}
    data = safetensors_file(header, b"\0" * 8)
    assert b"\\ud83d\\ude00" in data
    response = push(client, data, alice)
    assert response.status_code == 201, response.text
    assert response.json()["metadata"] == {"e": "\U0001f600"}
    for url in ["/api/models", "/api/models/alice/mlp", "/api/models/alice/mlp/versions/1"]:
        assert client.get(url).status_code == 200
    assert client.get("/api/models").json()["models"][0]["metadata"] == {"e": "\U0001f600"}
    assert safetensors.torch.load(data).keys() == {"w\U0001f600"}


SIZES = [0, 1, 3, 2**31, 2**32, 2**62, 2**63 - 1, 2**63, 2**64 - 1, 2**64]


@hypothesis.settings(max_examples=300, deadline=None)
@given(shape=st.lists(st.sampled_from(SIZES), max_size=4), dtype=st.sampled_from(["F32", "U8"]))
def test_a_shape_is_accepted_only_if_the_reference_reader_loads_it(shape, dtype):
    """parse_header (what a push checks) accepts a shape only if safetensors.torch loads it."""
    count = 1
    for size in shape:
        count *= size
    if count > 64:  # a buffer this test cannot hold: only zero-element and tiny tensors
        return
    nbytes = count * (4 if dtype == "F32" else 1)
    data = safetensors_file(
        {"a": {"dtype": dtype, "shape": shape, "data_offsets": [0, nbytes]}}, b"\0" * nbytes
    )
    try:
        engine.serialization.parse_header(data)
    except ValueError:
        return  # refusing more than the reference reader is allowed
    assert list(safetensors.torch.load(data)["a"].shape) == shape


def test_metadata_over_its_caps_is_refused_before_anything_is_stored(
    client, alice, no_trace, monkeypatch
):
    too_many = {f"k{i}": "" for i in range(server.uploads.MAX_METADATA_ENTRIES + 1)}
    response = push(client, model_file(metadata=too_many), alice)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "metadata_too_large"
    assert "257 entries" in response.json()["error"]["message"]
    just_enough = {f"k{i}": "" for i in range(server.uploads.MAX_METADATA_ENTRIES)}
    monkeypatch.setattr(server.uploads, "MAX_METADATA_BYTES", 100)
    response = push(client, model_file(metadata={"note": "é" * 49}), alice)  # 4 + 98 bytes
    assert response.status_code == 422, response.text
    assert "102 bytes" in response.json()["error"]["message"]
    no_trace()
    assert push(client, model_file(metadata={"note": "é" * 48}), alice).status_code == 201
    monkeypatch.undo()
    assert push(client, model_file(metadata=just_enough), alice).status_code == 201


def test_the_default_metadata_caps():
    assert server.uploads.MAX_METADATA_ENTRIES == 256
    assert server.uploads.MAX_METADATA_BYTES == 256 * 1024
