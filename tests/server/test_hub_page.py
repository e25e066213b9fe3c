"""The /hub page without a browser: the server serves it and its assets, its JavaScript parses,
and every API URL the JavaScript builds is a route of /api/openapi.json that answers with the
fields the page reads (a cheap guard against the page and the API drifting apart).
"""

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
HUB_JS = ROOT / "web" / "static" / "hub.js"

# data-testid hooks for the browser tests: in the HTML, or created by hub.js.
STATIC_HOOKS = {"search", "model-list", "model-detail", "error"}
DYNAMIC_HOOKS = {"model-row", "version-row"}

# A string or template literal that starts with /api/, e.g. `/api/models/${segment(owner)}`.
API_LITERAL = re.compile(r"""[`"'](/api/[^`"'\s]*)""")
# The first argument of each fetch( and getJSON( call (not the definition of getJSON).
REQUEST_CALL = re.compile(
    r"""(?<!function )\b(fetch|getJSON)\(\s*(`[^`]*`|"[^"]*"|'[^']*'|[A-Za-z_$][\w$]*)"""
)


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path / "data"))) as client:
        yield client


def js_source():
    return HUB_JS.read_text(encoding="utf-8")


class _Attributes(HTMLParser):
    """Collects data-testid values and every src/href of an HTML page."""

    def __init__(self):
        super().__init__()
        self.testids = set()
        self.links = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "data-testid":
                self.testids.add(value)
            elif name in ("src", "href") and value is not None:
                self.links.append(value)


def test_hub_page_is_served_with_its_hooks(client):
    response = client.get("/hub")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = _Attributes()
    page.feed(response.text)
    assert STATIC_HOOKS <= page.testids
    assert "/static/hub.js" in page.links
    assert "/static/style.css" in page.links
    # Everything comes from our own server: no CDN.
    external = [link for link in page.links if re.match(r"^(https?:)?//", link)]
    assert external == []


def test_rows_created_by_the_script_carry_their_hooks():
    source = js_source()
    for hook in DYNAMIC_HOOKS:
        assert re.search(rf"""testid: ["']{hook}["']""", source), hook


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/static/hub.js", "javascript"), ("/static/style.css", "text/css")],
)
def test_static_assets_are_served_with_their_types(client, path, content_type):
    response = client.get(path)
    assert response.status_code == 200
    assert content_type in response.headers["content-type"]
    assert response.content == (ROOT / "web" / path.removeprefix("/")).read_bytes()


def api_paths_in_script(source):
    """The API paths hub.js builds, with each ${...} replaced by one path segment `x`."""
    paths = set()
    for literal in API_LITERAL.findall(source):
        path = literal.split("?", 1)[0]
        paths.add(re.sub(r"\$\{[^}]*\}", "x", path))
    return paths


def openapi_get_routes(client):
    """Regexes for the GET routes of the OpenAPI schema, with {param} matching one segment."""
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    prefix = ""
    servers = schema.get("servers") or [{}]
    if servers[0].get("url", "").rstrip("/").endswith("/api"):
        prefix = "/api"
    routes = []
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        full = path if path.startswith("/api/") else prefix + path
        pieces = re.split(r"\{[^}]+\}", full)
        routes.append(re.compile("[^/]+".join(re.escape(piece) for piece in pieces) + "$"))
    return routes


def test_script_requests_only_go_through_literal_api_paths():
    calls = REQUEST_CALL.findall(js_source())
    assert calls, "hub.js makes no requests"
    for function, argument in calls:
        if function == "fetch":
            # The one fetch() is inside getJSON(path, ...), which handles errors for all calls.
            assert argument == "path", f"fetch({argument}) bypasses getJSON"
        else:
            assert API_LITERAL.match(argument), f"getJSON({argument}) is not a literal API path"


def test_script_calls_only_routes_that_exist(client):
    paths = api_paths_in_script(js_source())
    assert {"/api/models", "/api/models/x/x", "/api/models/x/x/versions/x/file"} <= paths
    routes = openapi_get_routes(client)
    missing = sorted(path for path in paths if not any(route.match(path) for route in routes))
    assert missing == [], f"hub.js calls paths that /api/openapi.json does not list: {missing}"


def create_token(data_dir, owner):
    result = subprocess.run(
        [sys.executable, "-m", "server", "token", "create", owner, "--data-dir", str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()[-1]


def test_api_answers_with_the_fields_the_page_reads(tmp_path):
    data_dir = tmp_path / "data"
    token = create_token(data_dir, "alice")
    weights = {"0.weight": np.ones((3, 2), np.float32), "0.bias": np.zeros(3, np.float32)}
    blob = save(weights, metadata={"metrics": '{"accuracy": 0.97}'})
    with TestClient(create_app(Settings(data_dir=data_dir))) as client:
        pushed = client.post(
            "/api/models/alice/mlp/versions",
            content=blob,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/octet-stream",
            },
        )
        assert pushed.status_code == 201, pushed.text

        # The requests hub.js makes, as it makes them.
        listing = client.get("/api/models?limit=20&offset=0&q=mlp&owner=alice").json()
        assert listing["total"] == 1
        (model,) = listing["models"]
        assert {"owner", "name", "latest_version", "versions", "updated_at", "metadata"} <= set(
            model
        )
        assert model["metadata"]["metrics"] == '{"accuracy": 0.97}'

        detail = client.get("/api/models/alice/mlp").json()
        assert {"owner", "name", "created_at", "updated_at", "versions"} <= set(detail)
        (version,) = detail["versions"]
        assert {"version", "sha256", "size", "created_at", "metadata", "tensors"} <= set(version)
        assert version["tensors"]["0.weight"] == {"dtype": "F32", "shape": [3, 2]}
        assert version["size"] == len(blob)

        download = client.get(f"/api/models/alice/mlp/versions/{version['version']}/file")
        assert download.status_code == 200
        assert download.content == blob

        # The page shows the API's own message when something is wrong.
        missing = client.get("/api/models/alice/nothing-here")
        assert missing.status_code == 404
        assert set(missing.json()["error"]) >= {"code", "message"}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_script_is_valid_javascript(tmp_path):
    # Checked as an ES module (.mjs), which is how the page loads it: strict mode, imports.
    module = tmp_path / "hub.mjs"
    module.write_bytes(HUB_JS.read_bytes())
    result = subprocess.run(["node", "--check", str(module)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
