"""Client of the model exchange: push a model to the server, list, pull and rebuild models.

    import engine.hub

    engine.hub.push(model, "alice/digits-mlp", metadata={"accuracy": 0.97})
    state_dict = engine.hub.pull("alice/digits-mlp")          # the latest version
    model = engine.hub.load_model("alice/digits-mlp", version=2)

A model is "owner/name" with immutable numbered versions, each one safetensors file. Reading
is open; writing needs the owner's token (the `token` argument or the environment variable
ENGINE_HUB_TOKEN). The server is the `server` argument, else ENGINE_HUB_URL, else
http://127.0.0.1:8000. Every failure the server reports raises `HubError`.
"""

import hashlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

import engine
from engine import serialization
from engine.nn.architecture import build, describe
from engine.nn.module import Module

DEFAULT_SERVER = "http://127.0.0.1:8000"
TIMEOUT = 60  # seconds for one request

# Metadata entries that `push` writes itself; a user's metadata may not set them.
ARCHITECTURE_KEY = "engine.architecture"
VERSION_KEY = "engine.version"
FRAMEWORK_KEY = "framework"


class HubError(Exception):
    """A request to the model exchange failed.

    `status` is the HTTP status (None when the server could not be reached), `code` and
    `message` what the server said, e.g. ``HubError: 403 forbidden: ...``.
    """

    def __init__(self, status, code, message):
        self.status = status
        self.code = code
        self.message = message
        prefix = f"{status} {code}" if status is not None else code
        super().__init__(f"{prefix}: {message}")


# ----------------------------------------------------------------------------- transport


def _request(method, url, body=None, headers=None):
    """Send one HTTP request; (status, headers with lower-case names, body bytes).

    The only function here that touches the network. Natively it is `urllib.request`; in
    the browser (Pyodide) it will be the page's `fetch` through `pyodide.http`, which is
    asynchronous and needs its own twin of this function.
    """
    if sys.platform == "emscripten":
        raise NotImplementedError("engine.hub in the browser: a fetch-based transport")
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            status, response_headers, data = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        # urllib raises for every status >= 300 it does not follow; they are answers too.
        status, response_headers, data = error.code, error.headers, error.read()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise HubError(
            None,
            "connection_error",
            f"cannot reach the model hub at {url} ({reason}); is the server running? "
            "Pass server=... or set ENGINE_HUB_URL",
        ) from None
    return status, {name.lower(): value for name, value in response_headers.items()}, data


# ----------------------------------------------------------------------------- helpers


def _server(server):
    return (server or os.environ.get("ENGINE_HUB_URL") or DEFAULT_SERVER).rstrip("/")


def _split_repo(repo):
    """("owner", "name") of "owner/name"; ValueError for anything else."""
    parts = repo.split("/") if isinstance(repo, str) else []
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"repo must be 'owner/name', got {repo!r}")
    return parts


def _url(server, *segments, query=None):
    """The URL of /api/<segments...> on `server`, each segment percent-encoded."""
    path = "/".join(urllib.parse.quote(str(segment), safe="") for segment in segments)
    url = f"{_server(server)}/api/{path}"
    if query:
        url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
    return url


def _raise_for_error(status, data):
    """Raise HubError with the server's {"error": {"code", "message"}} if `status` failed."""
    if status < 400:
        return
    try:
        error = json.loads(data)["error"]
        code, message = error["code"], error["message"]
    except (ValueError, KeyError, TypeError):
        code, message = "http_error", data[:500].decode("utf-8", "replace") or "(empty body)"
    raise HubError(status, code, message)


def _call(method, url, body=None, headers=None):
    """(status, headers, body) of a request the server must answer with success."""
    status, response_headers, data = _request(method, url, body, headers)
    _raise_for_error(status, data)
    return status, response_headers, data


def _json(method, url, body=None, headers=None):
    """The JSON answer of a request."""
    _, _, data = _call(method, url, body, headers)
    return json.loads(data)


def _auth(token):
    token = token or os.environ.get("ENGINE_HUB_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}


def _version_segment(version):
    if version == "latest" or (isinstance(version, int) and not isinstance(version, bool)):
        return str(version)
    if isinstance(version, str) and version.isdigit():
        return version
    raise ValueError(f"version must be a positive int or 'latest', got {version!r}")


def _metadata(module, user_metadata):
    """The `__metadata__` of a pushed file: the user's entries plus the engine's own."""
    metadata = {}
    for key, value in (user_metadata or {}).items():
        if not isinstance(key, str):
            raise TypeError(f"metadata keys must be str, got {key!r}")
        if key in (ARCHITECTURE_KEY, VERSION_KEY, FRAMEWORK_KEY):
            raise ValueError(f"metadata key {key!r} is written by push itself")
        metadata[key] = value if isinstance(value, str) else json.dumps(value)
    metadata[VERSION_KEY] = engine.__version__
    metadata[FRAMEWORK_KEY] = "engine"
    if module is not None:
        description = describe(module)
        if description is not None:
            metadata[ARCHITECTURE_KEY] = json.dumps(description, separators=(",", ":"))
    return metadata


# ----------------------------------------------------------------------------- the API


def push(module_or_state_dict, repo, token=None, metadata=None, server=None):
    """Upload a model as the next version of `repo` ("owner/name"); the version record.

    `module_or_state_dict` is a Module or a dict str -> Tensor. `metadata` (str -> value;
    values that are not str are stored as JSON) goes into the file's `__metadata__` with
    the engine's version and, for a model built from the library's own layers, its
    architecture, so that `load_model` can rebuild it.
    """
    owner, name = _split_repo(repo)
    if isinstance(module_or_state_dict, Module):
        module, tensors = module_or_state_dict, dict(module_or_state_dict.state_dict())
    else:
        module, tensors = None, module_or_state_dict
    data = serialization.dumps(tensors, _metadata(module, metadata))
    headers = {"Content-Type": "application/octet-stream", **_auth(token)}
    return _json("POST", _url(server, "models", owner, name, "versions"), data, headers)


def _download(repo, version, server):
    """The bytes of a version's file, checked against the sha256 the server sent as ETag."""
    owner, name = _split_repo(repo)
    url = _url(server, "models", owner, name, "versions", _version_segment(version), "file")
    _, headers, data = _call("GET", url)
    etag = headers.get("etag")
    if etag is None:
        raise HubError(200, "no_etag", f"{url} sent no ETag: cannot verify the download")
    expected = etag.removeprefix("W/").strip('"')
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise HubError(
            200, "checksum_mismatch", f"{url}: downloaded sha256 {actual} but the ETag is {etag}"
        )
    return data


def pull(repo, version="latest", server=None):
    """The state_dict (dict str -> Tensor) of `version` (a number or "latest") of `repo`."""
    return serialization.loads(_download(repo, version, server))


def load_model(repo, version="latest", server=None):
    """The model of `repo` rebuilt from the architecture stored in its file, in eval mode.

    Works for models built from the library's own layers (Sequential, Linear, ReLU, ...).
    For any other model, `pull` the state_dict and load it into your own class.
    """
    data = _download(repo, version, server)
    architecture = serialization.read_metadata(data).get(ARCHITECTURE_KEY)
    if architecture is None:
        raise ValueError(
            f"{repo} (version {version}) stores no architecture: it was not built only from "
            "engine.nn's own layers. Use engine.hub.pull(...) and "
            "model.load_state_dict(...) with your own model class"
        )
    header, _ = serialization.parse_header(data)
    stored = sum(_numel(entry["shape"]) for key, entry in header.items() if key != "__metadata__")
    model = build(architecture, max_parameters=stored)
    model.load_state_dict(serialization.loads(data), strict=True)
    return model.eval()


def _numel(shape):
    count = 1
    for n in shape:
        count *= n
    return count


def list(q=None, owner=None, limit=50, offset=0, server=None):
    """The models on the server, newest first: dicts with owner, name, latest_version, ...

    `q` searches names, `owner` keeps one owner's models; `limit` and `offset` page.
    """
    query = {"q": q, "owner": owner, "limit": limit, "offset": offset}
    return _json("GET", _url(server, "models", query=query))["models"]


def info(repo, server=None):
    """The model `repo` with the records of all its versions."""
    owner, name = _split_repo(repo)
    return _json("GET", _url(server, "models", owner, name))


def delete(repo, version=None, token=None, server=None):
    """Delete one version of `repo`, or (version=None) the whole model. Owner only."""
    owner, name = _split_repo(repo)
    segments = ["models", owner, name]
    if version is not None:
        segments += ["versions", _version_segment(version)]
    _call("DELETE", _url(server, *segments), headers=_auth(token))
