"""GET .../versions/{n|latest}/file (server/routes/download.py): bytes, ETag, ranges."""

import hashlib

import pytest

from server.routes.download import Unsatisfiable, parse_range
from tests.server.conftest import bearer, model_file

FILE = "/api/models/alice/mlp/versions/{}/file"


@pytest.fixture
def data(client, alice):
    data = model_file(values=[float(i) for i in range(100)], metadata={"k": "v"})
    assert client.post("/api/models/alice/mlp/versions", content=data, headers=alice).is_success
    return data


def test_whole_file(client, data):
    response = client.get(FILE.format(1))
    assert response.status_code == 200
    assert response.content == data
    sha = hashlib.sha256(data).hexdigest()
    assert response.headers["etag"] == f'"{sha}"'
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-disposition"] == (
        'attachment; filename="alice-mlp-v1.safetensors"'
    )
    assert "immutable" in response.headers["cache-control"]


def test_latest_is_revalidated_not_cached(client, data):
    response = client.get(FILE.format("latest"))
    assert response.content == data
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-disposition"].endswith('-v1.safetensors"')


@pytest.mark.parametrize("version", ["1", "latest"])
def test_if_none_match(client, data, version):
    etag = client.get(FILE.format(version)).headers["etag"]
    for header in [etag, f"W/{etag}", f'"other", {etag}', "*"]:
        response = client.get(FILE.format(version), headers={"If-None-Match": header})
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == etag
    response = client.get(FILE.format(version), headers={"If-None-Match": '"other"'})
    assert response.status_code == 200 and response.content == data


@pytest.mark.parametrize(
    "header, expected",
    [("bytes=0-7", (0, 8)), ("bytes=10-", (10, None)), ("bytes=-5", (-5, None))],
)
def test_range(client, data, header, expected):
    start, end = expected
    part = data[start:end]
    response = client.get(FILE.format(1), headers={"Range": header})
    assert response.status_code == 206
    assert response.content == part
    first = start % len(data)
    assert response.headers["content-range"] == f"bytes {first}-{first + len(part) - 1}/{len(data)}"
    assert response.headers["content-length"] == str(len(part))


def test_range_past_the_end_is_unsatisfiable(client, data):
    for header in [f"bytes={len(data)}-", f"bytes={len(data) + 5}-{len(data) + 9}", "bytes=-0"]:
        response = client.get(FILE.format(1), headers={"Range": header})
        assert response.status_code == 416
        assert response.headers["content-range"] == f"bytes */{len(data)}"
        assert response.json()["error"]["code"] == "range_not_satisfiable"


def test_ranges_we_do_not_serve_give_the_whole_file(client, data):
    for header in ["bytes=0-1,4-5", "lines=1-2", "bytes=9-3", "bytes=x-"]:
        response = client.get(FILE.format(1), headers={"Range": header})
        assert response.status_code == 200 and response.content == data


@pytest.mark.parametrize(
    "header, size, expected",
    [
        ("bytes=0-0", 10, (0, 1)),
        ("bytes=0-99", 10, (0, 10)),
        ("bytes=9-", 10, (9, 10)),
        ("bytes=-3", 10, (7, 10)),
        ("bytes=-30", 10, (0, 10)),
        (" bytes=2-4 ", 10, (2, 5)),
        ("bytes=4-2", 10, None),
        ("bytes=-", 10, None),
        ("bytes=١-٢", 10, None),
        ("bytes=" + "9" * 30 + "-", 10, None),
    ],
)
def test_parse_range(header, size, expected):
    assert parse_range(header, size) == expected


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=10-20", "bytes=-0"])
def test_parse_range_unsatisfiable(header):
    with pytest.raises(Unsatisfiable):
        parse_range(header, 10)


def test_other_origins_may_read_and_write_with_a_token(client, token_for):
    """CORS: a page elsewhere can pull (and check the ETag) and push with its own token."""
    origin = {"Origin": "https://notebook.example"}
    preflight = client.options(
        "/api/models/alice/m/versions",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()

    pushed = client.post(
        "/api/models/alice/m/versions",
        content=model_file(),
        headers={**origin, **bearer(token_for("alice"))},
    )
    assert pushed.status_code == 201
    response = client.get("/api/models/alice/m/versions/1/file", headers=origin)
    assert response.headers["access-control-allow-origin"] == "*"
    assert "etag" in response.headers["access-control-expose-headers"].lower()
    # No cookies are ever honoured across origins.
    assert "access-control-allow-credentials" not in response.headers
