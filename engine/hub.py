"""Client of the model exchange: push a model to the server, list, pull and rebuild models.

    import engine.hub

    engine.hub.push(model, "alice/digits-mlp", metadata={"accuracy": 0.97})
    state_dict = engine.hub.pull("alice/digits-mlp")          # the latest version
    model = engine.hub.load_model("alice/digits-mlp", version=2)

A model is "owner/name" with immutable numbered versions, each one safetensors file. Reading
is open; writing needs the owner's token (the `token` argument or the environment variable
ENGINE_HUB_TOKEN). The server is the `server` argument, else ENGINE_HUB_URL, else
http://127.0.0.1:8000 (in a web page: the page's own origin). Every failure raises
`HubError`: whatever the server reports, any status other than the call's one success
status (201 for a push, 204 for a delete, 200 otherwise), an answer that is not what the
call reads (JSON that does not parse, a file whose sha256 is not its ETag), one over the
size cap (MAX_RESPONSE_BYTES; MAX_DOWNLOAD_BYTES or `max_bytes` for a file), and a call
that takes longer than DEADLINE seconds in all.

Redirects: a write (push, delete) follows none, so its token goes only to the server it was
given; a read follows up to MAX_REDIRECTS, to the same origin only and without the token.

Every call has an awaitable twin (`push_async`, `pull_async`, `load_model_async`,
`list_async`, `info_async`, `delete_async`). In the browser (Pyodide) requests go through
the page's `fetch`, which is asynchronous: the twins work in every browser, while the plain
names block through JSPI (`pyodide.ffi.run_sync`, as the backend's synchronous readback
does) and raise a RuntimeError naming the twin where the browser cannot do that.

How the code is laid out: each call is described once as a `_Call` (the request and how to
read its answer), whichever way it is sent; only the byte transport differs, `_request`
(blocking) or `_request_async` (awaitable).
"""

import asyncio
import builtins
import hashlib
import json
import math
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import NamedTuple

import engine
from engine import serialization
from engine.nn.architecture import build, describe
from engine.nn.modules.module import Module

DEFAULT_SERVER = "http://127.0.0.1:8000"
TIMEOUT = 60  # seconds that one connect or one read may take
DEADLINE = 600  # seconds that one whole call may take (checked between reads)
MAX_REDIRECTS = 5  # that a read follows (same origin only; a write follows none)
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # of an answer other than a file: JSON, errors
MAX_DOWNLOAD_BYTES = 4 * 1024**3  # of a downloaded file, unless pull(max_bytes=...) says
CHUNK_BYTES = 1024 * 1024  # read at a time

# Metadata entries that `push` writes itself; a user's metadata may not set them.
ARCHITECTURE_KEY = "engine.architecture"
VERSION_KEY = "engine.version"
FRAMEWORK_KEY = "framework"

_IN_BROWSER = sys.platform == "emscripten"


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
#
# The only functions here that touch the network. Each sends one request and returns
# (status, headers with lower-case names, body bytes), whatever the status.


def _unreachable(url, reason):
    return HubError(
        None,
        "connection_error",
        f"cannot reach the model hub at {url} ({reason}); is the server running? "
        "Pass server=... or set ENGINE_HUB_URL",
    )


def _page():
    """The web page's fetch and JSPI (engine/backend/page.py; imported only in Pyodide)."""
    from engine.backend import page

    return page


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib follows a redirect of any request as a GET to wherever it points, with every
    header (the token too). Here it follows none: `_request` decides itself."""

    def redirect_request(self, *args, **kwargs):
        return None  # urllib then raises HTTPError with the 3xx answer


_OPENER = urllib.request.build_opener(_NoRedirects)
_REDIRECTS = (301, 302, 303, 307, 308)


def _origin(url):
    parts = urllib.parse.urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, parts.hostname, parts.port or default_port


def _timed_out(url, deadline_s):
    return HubError(None, "timeout", f"{url} did not answer within {deadline_s} s")


def _read_body(stream, url, limit, deadline):
    """The body of `stream`, read in chunks: HubError past `limit` bytes or the deadline."""
    length = stream.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise HubError(
            stream.status, "too_large", f"{url} answers {length} bytes, over the limit of {limit}"
        )
    read = getattr(stream, "read1", stream.read)
    chunks, size = [], 0
    while True:
        if time.monotonic() > deadline:
            raise _timed_out(url, DEADLINE)
        chunk = read(CHUNK_BYTES)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise HubError(stream.status, "too_large", f"{url} answers more than {limit} bytes")
        chunks.append(chunk)


def _send(method, url, body, headers, limit, deadline):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _timed_out(url, DEADLINE)
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        response = _OPENER.open(request, timeout=min(TIMEOUT, remaining))
    except urllib.error.HTTPError as error:
        # urllib raises for every status >= 300; they are answers too.
        response = error
    except (urllib.error.URLError, OSError) as error:
        raise _unreachable(url, getattr(error, "reason", error)) from None
    try:
        with response:
            status, response_headers = response.status, response.headers
            data = _read_body(response, url, limit, deadline)
    except (urllib.error.URLError, OSError) as error:  # cut off, or a read timed out
        raise _unreachable(url, getattr(error, "reason", error)) from None
    return status, {name.lower(): value for name, value in response_headers.items()}, data


def _request(method, url, body=None, headers=None, limit=None):
    """Send one request and wait for the answer: urllib natively, JSPI in the browser.

    At most `limit` bytes of answer (MAX_RESPONSE_BYTES by default) are read, and the whole
    call, redirects included, has DEADLINE seconds. Only a GET follows a redirect, and only
    to the same origin (scheme, host, port) and without the Authorization header: a write
    answered with a redirect returns that answer, which the caller reports as an error.
    """
    if _IN_BROWSER:
        return _page().block_on(_fetch(method, url, body, headers))
    limit = MAX_RESPONSE_BYTES if limit is None else limit
    deadline = time.monotonic() + DEADLINE
    headers = dict(headers or {})
    for _ in range(MAX_REDIRECTS + 1):
        status, response_headers, data = _send(method, url, body, headers, limit, deadline)
        location = response_headers.get("location")
        if method != "GET" or status not in _REDIRECTS or location is None:
            return status, response_headers, data
        target = urllib.parse.urljoin(url, location)
        if _origin(target) != _origin(url):
            raise HubError(
                status,
                "redirect_refused",
                f"{url} redirects to another origin ({target}); not followed",
            )
        url = target
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    raise HubError(status, "too_many_redirects", f"more than {MAX_REDIRECTS} redirects")


async def _request_async(method, url, body=None, headers=None, limit=None):
    """`_request` as an awaitable: the page's fetch in the browser, a worker thread natively."""
    if _IN_BROWSER:
        return await _fetch(method, url, body, headers)
    return await asyncio.to_thread(_request, method, url, body, headers, limit)


async def _fetch(method, url, body, headers):
    try:
        return await _page().fetch(method, url, body, headers)
    except ConnectionError as error:
        raise _unreachable(url, error) from None


def _require_blocking(name):
    """In the browser a blocking call needs JSPI; where there is none, name the twin."""
    if _IN_BROWSER and not _page().can_block():
        raise RuntimeError(
            f"engine.hub.{name}() waits for the server, which in the browser needs JSPI "
            "stack switching (pyodide.ffi.run_sync): Chromium 137+ with the code run through "
            f"runPythonAsync or an async function. Use `await engine.hub.{name}_async(...)`, "
            "which works in every browser"
        )


# ----------------------------------------------------------------------------- the protocol


class _Call(NamedTuple):
    """One request to the exchange and how to read a successful answer."""

    method: str
    url: str
    answer: Callable  # (headers, body bytes) -> what the API function returns
    body: bytes | None = None
    headers: dict | None = None
    expect: int = 200  # the one status that is success; any other raises HubError
    limit: int | None = None  # the most bytes of answer to read (None: MAX_RESPONSE_BYTES)


def _perform(call):
    status, headers, data = _request(call.method, call.url, call.body, call.headers, call.limit)
    _raise_for_status(call, status, headers, data)
    return call.answer(headers, data)


async def _perform_async(call):
    answer = await _request_async(call.method, call.url, call.body, call.headers, call.limit)
    status, headers, data = answer
    _raise_for_status(call, status, headers, data)
    return call.answer(headers, data)


def _default_server():
    if _IN_BROWSER:  # a page talks to the server it came from
        return _page().origin() or DEFAULT_SERVER
    return DEFAULT_SERVER


def _server(server):
    return (server or os.environ.get("ENGINE_HUB_URL") or _default_server()).rstrip("/")


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


def _raise_for_status(call, status, headers, data):
    """Raise HubError unless `status` is the one `call` expects: with the server's
    {"error": {"code", "message"}} where it sent one, else naming the status (a redirect,
    which a write never follows, names where it pointed)."""
    if status == call.expect:
        return
    try:
        error = json.loads(data)["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        text = data[:500].decode("utf-8", "replace") or "(empty body)"
        if status >= 400:
            code, message = "http_error", text
        else:
            code = "redirected" if status in _REDIRECTS else "unexpected_status"
            message = f"{call.method} {call.url} answered {status}, expected {call.expect}"
            if "location" in headers:
                message += f" (Location: {headers['location']}; not followed)"
    raise HubError(status, code, message)


def _json_answer(headers, data):
    try:
        return json.loads(data)
    except ValueError:  # also UnicodeDecodeError
        text = data[:200].decode("utf-8", "replace")
        raise HubError(200, "invalid_response", f"the answer is not JSON: {text!r}") from None


def _auth(token):
    token = token or os.environ.get("ENGINE_HUB_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}


def _version_segment(version):
    if version == "latest" or (isinstance(version, int) and not isinstance(version, bool)):
        return str(version)
    if isinstance(version, str) and version.isdigit():
        return version
    raise ValueError(f"version must be a positive int or 'latest', got {version!r}")


def _file_contents(module_or_state_dict, user_metadata):
    """(tensors, metadata) of the file that pushes `module_or_state_dict`.

    The metadata is the user's entries (values that are not str as JSON) plus the engine's
    own: its version and, for a model built from the library's own layers, its architecture.
    """
    if isinstance(module_or_state_dict, Module):
        module, tensors = module_or_state_dict, dict(module_or_state_dict.state_dict())
    else:
        module, tensors = None, module_or_state_dict
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
    return tensors, metadata


def _push_call(repo, data, token, server):
    owner, name = _split_repo(repo)
    headers = {"Content-Type": "application/octet-stream", **_auth(token)}
    url = _url(server, "models", owner, name, "versions")
    return _Call("POST", url, _json_answer, data, headers, expect=201)


def _download_call(repo, version, server, max_bytes=None):
    """The call whose answer is the bytes of a version's file (at most `max_bytes`, else
    MAX_DOWNLOAD_BYTES), checked against its ETag."""
    owner, name = _split_repo(repo)
    url = _url(server, "models", owner, name, "versions", _version_segment(version), "file")

    def checked(headers, data):
        etag = headers.get("etag")
        if etag is None:
            raise HubError(200, "no_etag", f"{url} sent no ETag: cannot verify the download")
        expected = etag.removeprefix("W/").strip('"')
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise HubError(
                200,
                "checksum_mismatch",
                f"{url}: downloaded sha256 {actual} but the ETag is {etag}",
            )
        return data

    limit = MAX_DOWNLOAD_BYTES if max_bytes is None else max_bytes
    return _Call("GET", url, checked, limit=limit)


def _model_from_file(repo, version, data):
    """The model that the file `data` describes, with its weights, in eval mode."""
    architecture = serialization.read_metadata(data).get(ARCHITECTURE_KEY)
    if architecture is None:
        raise ValueError(
            f"{repo} (version {version}) stores no architecture: it was not built only from "
            "engine.nn's own layers. Use engine.hub.pull(...) and "
            "model.load_state_dict(...) with your own model class"
        )
    header, _ = serialization.parse_header(data)
    header.pop("__metadata__", None)
    stored = sum(math.prod(entry["shape"]) for entry in header.values())
    model = build(architecture, max_parameters=stored)
    model.load_state_dict(serialization.loads(data), strict=True)
    return model.eval()


def _list_call(q, owner, limit, offset, server):
    query = {"q": q, "owner": owner, "limit": limit, "offset": offset}

    def models(headers, data):
        answer = _json_answer(headers, data)
        if not isinstance(answer, dict) or not isinstance(answer.get("models"), builtins.list):
            raise HubError(200, "invalid_response", "the answer holds no list of models")
        return answer["models"]

    return _Call("GET", _url(server, "models", query=query), models)


def _info_call(repo, server):
    owner, name = _split_repo(repo)
    return _Call("GET", _url(server, "models", owner, name), _json_answer)


def _delete_call(repo, version, token, server):
    owner, name = _split_repo(repo)
    segments = ["models", owner, name]
    if version is not None:
        segments += ["versions", _version_segment(version)]
    url = _url(server, *segments)
    return _Call("DELETE", url, lambda h, d: None, headers=_auth(token), expect=204)


# ----------------------------------------------------------------------------- the API


def push(module_or_state_dict, repo, token=None, metadata=None, server=None):
    """Upload a model as the next version of `repo` ("owner/name"); the version record.

    `module_or_state_dict` is a Module or a dict str -> Tensor. `metadata` (str -> value;
    values that are not str are stored as JSON) goes into the file's `__metadata__` with
    the engine's version and, for a model built from the library's own layers, its
    architecture, so that `load_model` can rebuild it.
    """
    _require_blocking("push")
    _split_repo(repo)  # a bad name fails before anything is read back from the GPU
    tensors, file_metadata = _file_contents(module_or_state_dict, metadata)
    return _perform(_push_call(repo, serialization.dumps(tensors, file_metadata), token, server))


async def push_async(module_or_state_dict, repo, token=None, metadata=None, server=None):
    """`push` as an awaitable: `record = await engine.hub.push_async(model, "alice/x")`."""
    _split_repo(repo)
    tensors, file_metadata = _file_contents(module_or_state_dict, metadata)
    data = await serialization.dumps_async(tensors, file_metadata)
    return await _perform_async(_push_call(repo, data, token, server))


def pull(repo, version="latest", server=None, max_bytes=None):
    """The state_dict (dict str -> Tensor) of `version` (a number or "latest") of `repo`.

    A file over `max_bytes` (default MAX_DOWNLOAD_BYTES, 4 GiB) raises HubError as soon as
    the answer says or shows so, without being read whole.
    """
    _require_blocking("pull")
    return serialization.loads(_perform(_download_call(repo, version, server, max_bytes)))


async def pull_async(repo, version="latest", server=None, max_bytes=None):
    """`pull` as an awaitable."""
    call = _download_call(repo, version, server, max_bytes)
    return serialization.loads(await _perform_async(call))


def load_model(repo, version="latest", server=None, max_bytes=None):
    """The model of `repo` rebuilt from the architecture stored in its file, in eval mode.

    Works for models built from the library's own layers (Sequential, Linear, ReLU, ...).
    For any other model, `pull` the state_dict and load it into your own class.
    `max_bytes` is `pull`'s.
    """
    _require_blocking("load_model")
    data = _perform(_download_call(repo, version, server, max_bytes))
    return _model_from_file(repo, version, data)


async def load_model_async(repo, version="latest", server=None, max_bytes=None):
    """`load_model` as an awaitable."""
    data = await _perform_async(_download_call(repo, version, server, max_bytes))
    return _model_from_file(repo, version, data)


def list(q=None, owner=None, limit=50, offset=0, server=None):
    """The models on the server, newest first: dicts with owner, name, latest_version, ...

    Their "metadata" is a summary (short entries only; "metadata_truncated" says whether
    some were left out): `info` has each version's whole metadata.

    `q` searches names, `owner` keeps one owner's models; `limit` and `offset` page.
    """
    _require_blocking("list")
    return _perform(_list_call(q, owner, limit, offset, server))


async def list_async(q=None, owner=None, limit=50, offset=0, server=None):
    """`list` as an awaitable."""
    return await _perform_async(_list_call(q, owner, limit, offset, server))


def info(repo, server=None):
    """The model `repo` with the records of all its versions."""
    _require_blocking("info")
    return _perform(_info_call(repo, server))


async def info_async(repo, server=None):
    """`info` as an awaitable."""
    return await _perform_async(_info_call(repo, server))


def delete(repo, version=None, token=None, server=None):
    """Delete one version of `repo`, or (version=None) the whole model. Owner only."""
    _require_blocking("delete")
    _perform(_delete_call(repo, version, token, server))


async def delete_async(repo, version=None, token=None, server=None):
    """`delete` as an awaitable."""
    await _perform_async(_delete_call(repo, version, token, server))
