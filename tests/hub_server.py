"""A real model-exchange server on 127.0.0.1 for the tests of the hub client.

`running_hub(data_dir)` makes tokens for alice and bob with `python -m server token create`,
starts `python -m server` on a free port as a subprocess, waits for /api/health, and stops
the server on exit. Tests call `skip_without_server()` first, so that they skip rather
than fail where the server package (its `python -m server` entry point) is not there yet.
"""

import contextlib
import dataclasses
import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 30  # seconds


@dataclasses.dataclass
class Hub:
    url: str
    tokens: dict  # owner -> token
    data_dir: Path


def skip_without_server():
    """Skip the calling test (or module) when `python -m server` cannot run here."""
    try:
        found = importlib.util.find_spec("server.__main__") is not None
    except ImportError:
        found = False
    if not found:
        pytest.skip("the server package (server/__main__.py) is not there yet")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_token(owner, data_dir):
    """A new token for `owner`: the last word `python -m server token create` prints."""
    result = subprocess.run(
        [sys.executable, "-m", "server", "token", "create", owner, "--data-dir", str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0 or not result.stdout.split():
        raise RuntimeError(f"token create {owner} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.split()[-1]


def _healthy(url):
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
            return response.status == 200 and json.loads(response.read())["status"] == "ok"
    except (urllib.error.URLError, OSError, ValueError, KeyError):
        return False


@contextlib.contextmanager
def running_hub(data_dir, owners=("alice", "bob")):
    """A started server with a fresh data directory `data_dir` and a token per owner."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    tokens = {owner: create_token(owner, data_dir) for owner in owners}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = data_dir.parent / f"server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "--host", "127.0.0.1", "--port", str(port)]
            + ["--data-dir", str(data_dir)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not _healthy(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the server did not become healthy at {url}:\n{log_path.read_text()}"
                    )
                time.sleep(0.1)
            yield Hub(url=url, tokens=tokens, data_dir=data_dir)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
