"""The exchange on a real uvicorn on 127.0.0.1, driven with plain urllib: the whole cycle,
caching and ranges over the wire, concurrent pushes, and bodies cut short or too long."""

import hashlib
import json
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import safetensors.torch
import torch

import engine
from engine.serialization import dumps
from tests.server.conftest import model_file, storage_snapshot


def request(method, url, data=None, headers=None):
    """(status, headers, body) of one request; error statuses are answers, not exceptions."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def push(url, owner, name, data, headers):
    headers = {**headers, "Content-Type": "application/octet-stream"}
    return request("POST", f"{url}/api/models/{owner}/{name}/versions", data, headers)


def test_push_list_info_pull_delete(live_server, alice, tmp_path):
    url = live_server
    engine_file = dumps(
        {"fc.weight": engine.ones(4, 3), "fc.bias": engine.zeros(4)},
        metadata={"architecture": "linear"},
    )
    torch_path = tmp_path / "torch.safetensors"
    weight = torch.randn(3, 5)
    safetensors.torch.save_file({"weight": weight}, torch_path, {"from": "torch"})
    torch_file = torch_path.read_bytes()

    status, headers, body = push(url, "alice", "linear", engine_file, alice)
    assert status == 201, body
    assert headers["Location"] == "/api/models/alice/linear/versions/1"
    status, _, body = push(url, "alice", "linear", torch_file, alice)
    assert status == 201 and json.loads(body)["version"] == 2

    status, _, body = request("GET", f"{url}/api/models?q=LINEAR")
    listing = json.loads(body)
    assert listing["total"] == 1
    assert listing["models"][0]["latest_version"] == 2
    assert listing["models"][0]["metadata"] == {"from": "torch"}

    status, _, body = request("GET", f"{url}/api/models/alice/linear")
    versions = json.loads(body)["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["metadata"] == {"architecture": "linear"}
    assert versions[1]["tensors"] == {"weight": {"dtype": "F32", "shape": [3, 5]}}

    for version, expected in [(1, engine_file), (2, torch_file), ("latest", torch_file)]:
        status, headers, body = request(
            "GET", f"{url}/api/models/alice/linear/versions/{version}/file"
        )
        assert status == 200 and body == expected
        assert headers["ETag"] == f'"{hashlib.sha256(expected).hexdigest()}"'
        assert headers["Content-Length"] == str(len(expected))

    pulled = tmp_path / "pulled.safetensors"
    pulled.write_bytes(request("GET", f"{url}/api/models/alice/linear/versions/2/file")[2])
    assert torch.equal(safetensors.torch.load_file(pulled)["weight"], weight)

    assert request("DELETE", f"{url}/api/models/alice/linear/versions/1", headers=alice)[0] == 204
    assert request("GET", f"{url}/api/models/alice/linear/versions/1")[0] == 404
    assert request("DELETE", f"{url}/api/models/alice/linear", headers=alice)[0] == 204
    assert request("GET", f"{url}/api/models/alice/linear")[0] == 404
    assert json.loads(request("GET", f"{url}/api/models")[2])["total"] == 0


def test_etag_and_ranges(live_server, alice):
    url = live_server
    data = model_file(values=[float(i) for i in range(50)])
    assert push(url, "alice", "m", data, alice)[0] == 201
    file_url = f"{url}/api/models/alice/m/versions/1/file"

    status, headers, _ = request("GET", file_url)
    etag = headers["ETag"]
    status, headers, body = request("GET", file_url, headers={"If-None-Match": etag})
    assert (status, body, headers["ETag"]) == (304, b"", etag)

    status, headers, body = request("GET", file_url, headers={"Range": "bytes=8-23"})
    assert status == 206 and body == data[8:24]
    assert headers["Content-Range"] == f"bytes 8-23/{len(data)}"
    status, headers, body = request("GET", file_url, headers={"Range": "bytes=-10"})
    assert status == 206 and body == data[-10:]
    status, headers, body = request("GET", file_url, headers={"Range": f"bytes={len(data)}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(data)}"


def test_twenty_concurrent_pushes(live_server, alice):
    url = live_server
    files = [model_file(values=[float(i)] * (i + 1), metadata={"i": str(i)}) for i in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda data: push(url, "alice", "busy", data, alice), files))
    assert [status for status, _, _ in results] == [201] * 20
    records = [json.loads(body) for _, _, body in results]
    assert sorted(record["version"] for record in records) == list(range(1, 21))

    versions = json.loads(request("GET", f"{url}/api/models/alice/busy")[2])["versions"]
    assert [v["version"] for v in versions] == list(range(1, 21))
    for version in versions:
        body = request("GET", f"{url}/api/models/alice/busy/versions/{version['version']}/file")[2]
        assert hashlib.sha256(body).hexdigest() == version["sha256"]
        assert body == files[int(version["metadata"]["i"])]


def test_oversized_upload_is_refused(live_server, alice, settings, no_trace):
    url = live_server
    data = model_file(values=[1.0] * (settings.max_upload_bytes // 4))
    status, _, body = push(url, "alice", "big", data, alice)
    assert status == 413 and json.loads(body)["error"]["code"] == "too_large"

    # Without a Content-Length (chunked): refused once the cap is passed.
    chunks = (data[i : i + 8192] for i in range(0, len(data), 8192))
    status, headers, body = push(url, "alice", "big", chunks, alice)
    assert status == 413
    no_trace()


def test_chunked_upload_within_the_cap(live_server, alice):
    data = model_file(values=[3.0] * 3000)
    chunks = (data[i : i + 1000] for i in range(0, len(data), 1000))
    status, _, body = push(live_server, "alice", "chunked", chunks, alice)
    assert status == 201
    assert json.loads(body)["sha256"] == hashlib.sha256(data).hexdigest()


def test_client_gone_mid_upload_leaves_no_trace(live_server, alice, settings, no_trace):
    host, port = live_server.removeprefix("http://").split(":")
    data = model_file(values=[1.0] * 1000)
    head = (
        f"POST /api/models/alice/cut/versions HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: {alice['Authorization']}\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    tmp = settings.data_dir / "tmp"
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(head.encode() + data[: len(data) // 2])
        deadline = time.monotonic() + 10
        while not any(tmp.iterdir()):  # the server is spooling the first half
            assert time.monotonic() < deadline, "the upload never reached tmp/"
            time.sleep(0.01)
    deadline = time.monotonic() + 10
    while storage_snapshot(settings.data_dir)["tmp"] and time.monotonic() < deadline:
        time.sleep(0.05)
    no_trace()
