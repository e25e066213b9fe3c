"""gzip of the files the pages load (server/compression.py): what is compressed, what is not,
and that the bytes, validators and Range requests stay right."""

import gzip
import os
import random

import pytest

from server import Settings
from server.compression import GzipCache, accepts_gzip
from tests.server.conftest import model_file

GZIP = {"Accept-Encoding": "gzip, deflate"}
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture
def pyodide_dir(tmp_path):
    folder = tmp_path / "pyodide"
    folder.mkdir()
    # Compressible, like the real module: a repetitive byte pattern.
    (folder / "pyodide.asm.wasm").write_bytes(b"\0asm" + bytes(range(64)) * 4096)
    (folder / "pyodide.mjs").write_text("export const x = 1;\n" * 200)
    (folder / "tiny.js").write_text("let a;\n")
    (folder / "python_stdlib.zip").write_bytes(random.Random(0).randbytes(8192))
    return folder


@pytest.fixture
def settings(tmp_path, pyodide_dir):
    return Settings(data_dir=tmp_path / "data", pyodide_dir=pyodide_dir)


def test_accept_encoding_parsing():
    assert accepts_gzip({"accept-encoding": "gzip"})
    assert accepts_gzip({"accept-encoding": "br;q=1.0, gzip;q=0.8, *;q=0.1"})
    assert accepts_gzip({"accept-encoding": "*"})
    assert not accepts_gzip({"accept-encoding": "gzip;q=0"})
    assert not accepts_gzip({"accept-encoding": "br, deflate"})
    assert not accepts_gzip({"accept-encoding": "gzip;q=nonsense"})
    assert not accepts_gzip({})


def test_wasm_is_gzipped_and_decompresses_to_the_file(client, pyodide_dir):
    original = (pyodide_dir / "pyodide.asm.wasm").read_bytes()
    # httpx decodes gzip itself: the raw stream shows what went over the wire.
    with client.stream("GET", "/pyodide/pyodide.asm.wasm", headers=GZIP) as response:
        raw = b"".join(response.iter_raw())
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"] == "application/wasm"
    assert "Accept-Encoding" in response.headers["vary"]
    assert "immutable" in response.headers["cache-control"]
    assert int(response.headers["content-length"]) == len(raw) < len(original) // 4
    assert gzip.decompress(raw) == original


def test_without_gzip_in_accept_encoding_the_file_is_sent_as_is(client, pyodide_dir):
    response = client.get("/pyodide/pyodide.asm.wasm", headers=IDENTITY)
    assert "content-encoding" not in response.headers
    assert "Accept-Encoding" in response.headers["vary"]
    assert response.content == (pyodide_dir / "pyodide.asm.wasm").read_bytes()


def test_range_requests_get_the_plain_bytes(client, pyodide_dir):
    headers = {**GZIP, "Range": "bytes=0-3"}
    response = client.get("/pyodide/pyodide.asm.wasm", headers=headers)
    assert response.status_code == 206
    assert "content-encoding" not in response.headers
    assert response.content == b"\0asm"


def test_zip_and_tiny_files_are_not_compressed(client, pyodide_dir):
    for name in ("python_stdlib.zip", "tiny.js"):
        response = client.get(f"/pyodide/{name}", headers=GZIP)
        assert "content-encoding" not in response.headers, name
        assert response.content == (pyodide_dir / name).read_bytes()


def test_each_representation_has_its_own_etag_and_revalidates(client):
    plain = client.get("/pyodide/pyodide.mjs", headers=IDENTITY).headers["etag"]
    zipped = client.get("/pyodide/pyodide.mjs", headers=GZIP).headers["etag"]
    assert plain != zipped and zipped.endswith('-gzip"')

    again = client.get("/pyodide/pyodide.mjs", headers={**GZIP, "If-None-Match": zipped})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == zipped
    again = client.get("/pyodide/pyodide.mjs", headers={**IDENTITY, "If-None-Match": plain})
    assert again.status_code == 304
    # The plain validator does not stand for the gzipped bytes, nor the reverse.
    cross = client.get("/pyodide/pyodide.mjs", headers={**GZIP, "If-None-Match": plain})
    assert cross.status_code == 200
    cross = client.get("/pyodide/pyodide.mjs", headers={**IDENTITY, "If-None-Match": zipped})
    assert cross.status_code == 200


@pytest.mark.parametrize("path", ["/", "/demos/train", "/console", "/hub"])
def test_pages_are_gzipped_and_revalidated(client, path):
    response = client.get(path, headers=GZIP)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "no-cache"
    assert "<html" in response.text.lower()
    assert (
        client.get(path, headers={**GZIP, "If-None-Match": response.headers["etag"]}).status_code
        == 304
    )


def test_static_files_are_gzipped_and_revalidated(client):
    response = client.get("/static/train.js", headers=GZIP)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-type"].startswith("text/javascript")
    assert "bootEngine" in response.text  # the script itself, decoded
    etag = response.headers["etag"]
    assert (
        client.get("/static/train.js", headers={**GZIP, "If-None-Match": etag}).status_code == 304
    )
    assert client.get("/static/missing.js", headers=GZIP).status_code == 404


def test_model_downloads_are_never_encoded(client, token_for):
    body = model_file(values=tuple(float(i) for i in range(512)))
    headers = {"Authorization": f"Bearer {token_for('alice')}"}
    assert (
        client.post("/api/models/alice/m/versions", content=body, headers=headers).status_code
        == 201
    )
    with client.stream("GET", "/api/models/alice/m/versions/1/file", headers=GZIP) as response:
        raw = b"".join(response.iter_raw())
    assert "content-encoding" not in response.headers
    assert raw == body


def test_cache_compresses_once_per_version_and_stays_bounded(tmp_path):
    path = tmp_path / "a.js"
    path.write_bytes(b"a" * 5000)
    cache = GzipCache(max_bytes=10_000)
    first = cache.get(path, os.stat(path))
    assert cache.get(path, os.stat(path)) is first  # cached, not compressed again
    assert gzip.decompress(first) == b"a" * 5000

    path.write_bytes(b"b" * 6000)
    os.utime(path, ns=(1, 1))
    assert gzip.decompress(cache.get(path, os.stat(path))) == b"b" * 6000
    assert len(cache._entries) == 1  # the old version is dropped

    for index in range(50):
        other = tmp_path / f"{index}.js"
        other.write_bytes(random.Random(index).randbytes(1000))
        cache.get(other, os.stat(other))
    assert cache._total <= cache.max_bytes
