"""Fixtures for the model-exchange tests: an app on a fresh data directory per test, tokens,
safetensors files (well-formed and broken), a real uvicorn on 127.0.0.1, and a snapshot of
everything in storage, to check that a refused request left no trace."""

import json
import sqlite3
import struct
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import uvicorn
from starlette.testclient import TestClient

from server import Settings, create_app
from server.auth import hash_token, new_token

ROOT = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------- files


def safetensors_file(header, data=b"", header_size=None):
    """A safetensors file: the header dict as JSON (or raw bytes) after its 8-byte length."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    length = len(text) if header_size is None else header_size
    return struct.pack("<Q", length) + text + data


def model_file(values=(1.0, 2.0, 3.0), metadata=None):
    """A valid file: float32 tensor "w" holding `values`, and a 2-element int32 "b"."""
    w = struct.pack(f"<{len(values)}f", *values)
    header = {
        "b": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]},
        "w": {"dtype": "F32", "shape": [len(values)], "data_offsets": [8, 8 + len(w)]},
    }
    if metadata is not None:
        header["__metadata__"] = metadata
    return safetensors_file(header, struct.pack("<2i", 7, -7) + w)


# ----------------------------------------------------------------------------- storage


def storage_snapshot(data_dir):
    """Every row and every file the exchange keeps under `data_dir`."""
    with sqlite3.connect(data_dir / "exchange.sqlite3") as db:
        models = db.execute("SELECT * FROM models ORDER BY id").fetchall()
        versions = db.execute("SELECT * FROM versions ORDER BY id").fetchall()
    files = {
        folder: sorted(str(p.relative_to(data_dir)) for p in (data_dir / folder).rglob("*"))
        for folder in ("blobs", "tmp")
    }
    files["blobs"] = [name for name in files["blobs"] if (data_dir / name).is_file()]
    return {"models": models, "versions": versions, **files}


@pytest.fixture
def no_trace(app, settings):
    """Call at the end of a test: asserts storage is as it was when the test began."""
    before = storage_snapshot(settings.data_dir)

    def check():
        after = storage_snapshot(settings.data_dir)
        assert after == before
        assert after["tmp"] == []

    return check


# ----------------------------------------------------------------------------- app


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "data", max_upload_bytes=64 * 1024)


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture
def token_for(app):
    """token_for(owner): a new valid token of `owner`."""

    def make(owner):
        token = new_token()
        app.state.metadata.add_token(owner, hash_token(token))
        return token

    return make


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def alice(token_for):
    """Headers that authorize alice."""
    return bearer(token_for("alice"))


# ----------------------------------------------------------------------------- live server


@pytest.fixture
def live_server(app):
    """The base URL of a real uvicorn serving `app` on 127.0.0.1 (a free port), in a thread."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(f"{url}/api/health", timeout=10) as response:
        assert json.loads(response.read())["status"] == "ok"
    yield url
    server.should_exit = True
    thread.join(timeout=10)
