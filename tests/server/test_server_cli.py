"""`python -m server` (server/__main__.py): the token commands and serving, as subprocesses."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from starlette.testclient import TestClient

from server import Settings, create_app
from tests.server.conftest import ROOT, bearer, model_file


def run_server_command(*args, env=None):
    result = subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    return result


def push(client, owner, token):
    url = f"/api/models/{owner}/m/versions"
    return client.post(url, content=model_file(), headers=bearer(token))


def test_token_create_authorizes_that_owner_only(tmp_path):
    data_dir = tmp_path / "data"
    result = run_server_command("token", "create", "alice", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    token = result.stdout.split()[-1]
    # Prefixed: never read as a command-line option, easy for secret scanners to spot.
    assert token.startswith("wgt_") and len(token) >= 40

    # Only the hash is stored.
    assert token.encode() not in (data_dir / "exchange.sqlite3").read_bytes()

    client = TestClient(create_app(Settings(data_dir=data_dir)))
    assert push(client, "alice", token).status_code == 201
    assert push(client, "bob", token).status_code == 403


def test_token_list_and_revoke(tmp_path):
    data_dir = str(tmp_path / "data")
    created = run_server_command("token", "create", "alice", "--data-dir", data_dir)
    token = created.stdout.split()[-1]
    listing = run_server_command("token", "list", "alice", "--data-dir", data_dir)
    assert listing.returncode == 0 and listing.stdout.count("sha256:") == 1
    assert token not in listing.stdout
    assert run_server_command("token", "revoke", token, "--data-dir", data_dir).returncode == 0
    again = run_server_command("token", "revoke", token, "--data-dir", data_dir)
    assert again.returncode != 0 and "no such token" in again.stderr

    client = TestClient(create_app(Settings(data_dir=data_dir)))
    assert push(client, "alice", token).status_code == 401


def test_token_create_refuses_a_bad_owner(tmp_path):
    result = run_server_command("token", "create", "../x", "--data-dir", str(tmp_path))
    assert result.returncode != 0 and "owner" in result.stderr


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_from_environment(tmp_path):
    """`python -m server` takes its settings from ENGINE_* variables."""
    port = free_port()
    env = {
        **os.environ,
        "ENGINE_SERVER_PORT": str(port),
        "ENGINE_DATA_DIR": str(tmp_path / "env-data"),
        "ENGINE_MAX_UPLOAD_BYTES": "100",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "server"], cwd=ROOT, env=env, stderr=subprocess.PIPE
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
                    assert json.loads(response.read())["status"] == "ok"
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        assert (tmp_path / "env-data" / "exchange.sqlite3").exists()
        request = urllib.request.Request(
            f"{url}/api/models/alice/m/versions", data=model_file(), method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request, timeout=10)
        assert error.value.code == 401  # auth comes before the size check
    finally:
        process.terminate()
        process.wait(timeout=10)
