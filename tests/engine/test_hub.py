"""engine.hub against a real server on 127.0.0.1: push, list, info, pull, load_model, delete."""

import asyncio
import base64
import hashlib
import http.server
import json
import subprocess
import sys
import threading
import time

import pytest

import engine
import engine.hub as hub
from engine import nn
from engine.hub import HubError
from tests.hub_server import ROOT, free_port, running_hub, skip_without_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    skip_without_server()
    with running_hub(tmp_path_factory.mktemp("hub") / "data") as running:
        yield running


@pytest.fixture(autouse=True)
def _no_hub_environment(monkeypatch):
    monkeypatch.delenv("ENGINE_HUB_URL", raising=False)
    monkeypatch.delenv("ENGINE_HUB_TOKEN", raising=False)


def make_mlp():
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))


def as_lists(state_dict):
    return {name: tensor.tolist() for name, tensor in state_dict.items()}


def test_full_cycle(server):
    alice = server.tokens["alice"]
    first, second = make_mlp(), make_mlp()
    record = hub.push(first, "alice/cycle", token=alice, server=server.url)
    assert (record["owner"], record["name"], record["version"]) == ("alice", "cycle", 1)
    record = hub.push(second, "alice/cycle", token=alice, server=server.url)
    assert record["version"] == 2
    assert record["tensors"]["0.weight"] == {"dtype": "F32", "shape": [8, 6]}
    assert set(record["tensors"]) == {"0.weight", "0.bias", "3.weight", "3.bias"}

    listed = hub.list(owner="alice", server=server.url)
    entry = next(model for model in listed if model["name"] == "cycle")
    assert entry["owner"] == "alice" and entry["latest_version"] == 2
    assert any(model["name"] == "cycle" for model in hub.list(q="cycl", server=server.url))
    assert all(model["owner"] == "bob" for model in hub.list(owner="bob", server=server.url))

    details = hub.info("alice/cycle", server=server.url)
    assert [version["version"] for version in details["versions"]] == [1, 2]

    assert as_lists(hub.pull("alice/cycle", version=1, server=server.url)) == as_lists(
        first.state_dict()
    )
    latest = as_lists(second.state_dict())
    assert as_lists(hub.pull("alice/cycle", server=server.url)) == latest
    assert as_lists(hub.pull("alice/cycle", version="2", server=server.url)) == latest

    hub.delete("alice/cycle", version=1, token=alice, server=server.url)
    details = hub.info("alice/cycle", server=server.url)
    assert [version["version"] for version in details["versions"]] == [2]
    with pytest.raises(HubError) as error:
        hub.pull("alice/cycle", version=1, server=server.url)
    assert error.value.status == 404

    hub.delete("alice/cycle", token=alice, server=server.url)
    with pytest.raises(HubError) as error:
        hub.info("alice/cycle", server=server.url)
    assert error.value.status == 404


def test_push_writes_metadata_and_a_matching_sha256(server):
    model = make_mlp()
    record = hub.push(
        model,
        "alice/metadata",
        token=server.tokens["alice"],
        metadata={"accuracy": 0.93, "dataset": "digits", "classes": [0, 1, 2]},
        server=server.url,
    )
    metadata = record["metadata"]
    assert metadata["accuracy"] == "0.93"
    assert metadata["dataset"] == "digits"
    assert json.loads(metadata["classes"]) == [0, 1, 2]
    assert metadata["framework"] == "engine"
    assert metadata["engine.version"] == engine.__version__
    assert json.loads(metadata["engine.architecture"])["type"] == "Sequential"

    data = hub._perform(hub._download_call("alice/metadata", 1, server.url))
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["size"] == len(data)


def test_metadata_cannot_override_the_engine_entries():
    with pytest.raises(ValueError, match="written by push"):
        hub.push(make_mlp(), "alice/x", token="t", metadata={"framework": "torch"})


def test_load_model_rebuilds_a_sequential_with_identical_predictions(server):
    model = make_mlp()
    hub.push(model, "alice/rebuild", token=server.tokens["alice"], server=server.url)
    loaded = hub.load_model("alice/rebuild", server=server.url)
    assert repr(loaded) == repr(model)
    assert not loaded.training
    model.eval()
    x = engine.randn(5, 6)
    with engine.no_grad():
        assert loaded(x).tolist() == model(x).tolist()


# A model file pushed by the engine before the layers moved into engine.nn.modules (its bytes
# as written then): Flatten, a ModuleDict of Linear and GELU, a ModuleList of Dropout and
# Identity, a Linear without bias and LogSoftmax. The architecture names layers by type only,
# never by module path, so the move must not change how such a file loads.
OLD_MODEL_FILE = base64.b64decode(
    "wAMAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJub3RlIjoid3JpdHRlbiBiZWZvcmUgZW5naW5lLm5uLm1vZHVsZXMi"
    "LCJlbmdpbmUudmVyc2lvbiI6IjAuMS4wIiwiZnJhbWV3b3JrIjoiZW5naW5lIiwiZW5naW5lLmFyY2hpdGVjdHVy"
    "ZSI6IntcImZvcm1hdF92ZXJzaW9uXCI6MSxcInR5cGVcIjpcIlNlcXVlbnRpYWxcIixcImNoaWxkcmVuXCI6W3tc"
    "Im5hbWVcIjpcIjBcIixcInR5cGVcIjpcIkZsYXR0ZW5cIixcInN0YXJ0X2RpbVwiOjEsXCJlbmRfZGltXCI6LTF9"
    "LHtcIm5hbWVcIjpcIjFcIixcInR5cGVcIjpcIk1vZHVsZURpY3RcIixcImNoaWxkcmVuXCI6W3tcIm5hbWVcIjpc"
    "ImhpZGRlblwiLFwidHlwZVwiOlwiTGluZWFyXCIsXCJpbl9mZWF0dXJlc1wiOjQsXCJvdXRfZmVhdHVyZXNcIjoz"
    "LFwiYmlhc1wiOnRydWV9LHtcIm5hbWVcIjpcImFjdFwiLFwidHlwZVwiOlwiR0VMVVwiLFwiYXBwcm94aW1hdGVc"
    "IjpcInRhbmhcIn1dfSx7XCJuYW1lXCI6XCIyXCIsXCJ0eXBlXCI6XCJNb2R1bGVMaXN0XCIsXCJjaGlsZHJlblwi"
    "Olt7XCJuYW1lXCI6XCIwXCIsXCJ0eXBlXCI6XCJEcm9wb3V0XCIsXCJwXCI6MC4yNX0se1wibmFtZVwiOlwiMVwi"
    "LFwidHlwZVwiOlwiSWRlbnRpdHlcIn1dfSx7XCJuYW1lXCI6XCIzXCIsXCJ0eXBlXCI6XCJMaW5lYXJcIixcImlu"
    "X2ZlYXR1cmVzXCI6MyxcIm91dF9mZWF0dXJlc1wiOjIsXCJiaWFzXCI6ZmFsc2V9LHtcIm5hbWVcIjpcIjRcIixc"
    "InR5cGVcIjpcIkxvZ1NvZnRtYXhcIixcImRpbVwiOjF9XX0ifSwiMS5oaWRkZW4uYmlhcyI6eyJkdHlwZSI6IkYz"
    "MiIsInNoYXBlIjpbM10sImRhdGFfb2Zmc2V0cyI6WzAsMTJdfSwiMS5oaWRkZW4ud2VpZ2h0Ijp7ImR0eXBlIjoi"
    "RjMyIiwic2hhcGUiOlszLDRdLCJkYXRhX29mZnNldHMiOlsxMiw2MF19LCIzLndlaWdodCI6eyJkdHlwZSI6IkYz"
    "MiIsInNoYXBlIjpbMiwzXSwiZGF0YV9vZmZzZXRzIjpbNjAsODRdfX0gICAAAIC+AAAgPwAAAD4AACC/AACAPgAA"
    "gL4AACA/AAAAPgAAwL4AAAA/AAAAAAAAAL8AAMA+AAAAvgAAIL8AAAA+AADAvgAAAD8AAAAAAAAAvwAAwD4="
)


def test_a_model_file_written_before_the_modules_move_loads_as_before():
    assert hashlib.sha256(OLD_MODEL_FILE).hexdigest() == (
        "b128442825ee69409353150cf2c71981ba11282f83058e917007b1b0b08b533b"
    )
    model = hub._model_from_file("old/model", 1, OLD_MODEL_FILE)
    assert repr(model) == "\n".join(
        [
            "Sequential(",
            "  (0): Flatten(start_dim=1, end_dim=-1)",
            "  (1): ModuleDict(",
            "    (hidden): Linear(in_features=4, out_features=3, bias=True)",
            "    (act): GELU(approximate='tanh')",
            "  )",
            "  (2): ModuleList(",
            "    (0): Dropout(p=0.25, inplace=False)",
            "    (1): Identity()",
            "  )",
            "  (3): Linear(in_features=3, out_features=2, bias=False)",
            "  (4): LogSoftmax(dim=1)",
            ")",
        ]
    )
    assert type(model[1]["hidden"]) is nn.modules.linear.Linear
    assert not model.training
    assert as_lists(model.state_dict()) == {
        "1.hidden.weight": [
            [-0.625, 0.25, -0.25, 0.625],
            [0.125, -0.375, 0.5, 0.0],
            [-0.5, 0.375, -0.125, -0.625],
        ],
        "1.hidden.bias": [-0.25, 0.625, 0.125],
        "3.weight": [[0.125, -0.375, 0.5], [0.0, -0.5, 0.375]],
    }
    x = engine.tensor([[[1.0, -2.0], [0.5, 3.0]], [[0.0, 1.0], [-1.0, 0.25]]])
    with engine.no_grad():
        hidden = model[1]["act"](model[1]["hidden"](model[0](x)))
        out = model[4](model[3](model[2][1](model[2][0](hidden))))
    expected = [[-0.5803778, -0.8202691], [-0.6632469, -0.7239693]]
    assert out.tolist() == [pytest.approx(row, abs=1e-6) for row in expected]
    # described again today, the model gets the very architecture text stored in the old file
    old_metadata = engine.serialization.read_metadata(OLD_MODEL_FILE)
    _, metadata = hub._file_contents(model, None)
    assert metadata[hub.ARCHITECTURE_KEY] == old_metadata[hub.ARCHITECTURE_KEY]


def test_state_dict_push_pulls_back_but_has_no_architecture(server):
    state = {"w": engine.randn(2, 3), "steps": engine.tensor([3], dtype=engine.int32)}
    hub.push(state, "alice/plain", token=server.tokens["alice"], server=server.url)
    assert as_lists(hub.pull("alice/plain", server=server.url)) == as_lists(state)
    with pytest.raises(ValueError, match="stores no architecture.*engine.hub.pull"):
        hub.load_model("alice/plain", server=server.url)


def test_environment_selects_server_and_token(server, monkeypatch):
    monkeypatch.setenv("ENGINE_HUB_URL", server.url + "/")
    monkeypatch.setenv("ENGINE_HUB_TOKEN", server.tokens["bob"])
    record = hub.push(make_mlp(), "bob/from-env")
    assert record["owner"] == "bob" and record["version"] == 1
    assert hub.info("bob/from-env")["name"] == "from-env"


def test_push_without_token_is_401(server):
    with pytest.raises(HubError) as error:
        hub.push(make_mlp(), "alice/anonymous", server=server.url)
    assert error.value.status == 401
    assert str(error.value).startswith(f"401 {error.value.code}: ")


def test_push_with_a_wrong_token_is_401(server):
    with pytest.raises(HubError) as error:
        hub.push(make_mlp(), "alice/wrong", token="not-a-token", server=server.url)
    assert error.value.status == 401


def test_pushing_under_another_owner_is_403(server):
    with pytest.raises(HubError) as error:
        hub.push(make_mlp(), "alice/x", token=server.tokens["bob"], server=server.url)
    assert error.value.status == 403
    assert error.value.message


def test_deleting_another_owners_model_is_403(server):
    hub.push(make_mlp(), "alice/keep", token=server.tokens["alice"], server=server.url)
    with pytest.raises(HubError) as error:
        hub.delete("alice/keep", token=server.tokens["bob"], server=server.url)
    assert error.value.status == 403
    assert hub.info("alice/keep", server=server.url)["versions"]


def test_unknown_model_or_version_is_404(server):
    for call in (
        lambda: hub.info("alice/no-such-model", server=server.url),
        lambda: hub.pull("alice/no-such-model", server=server.url),
        lambda: hub.load_model("nobody/nothing", version=3, server=server.url),
    ):
        with pytest.raises(HubError) as error:
            call()
        assert error.value.status == 404


def test_invalid_name_is_400(server):
    with pytest.raises(HubError) as error:
        hub.push(make_mlp(), "alice/bad name!", token=server.tokens["alice"], server=server.url)
    assert error.value.status == 400


def test_server_down_is_a_clear_error():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(HubError, match="cannot reach the model hub at " + url) as error:
        hub.list(server=url)
    assert error.value.status is None


def test_tampered_download_is_refused(server, monkeypatch):
    hub.push(make_mlp(), "alice/tamper", token=server.tokens["alice"], server=server.url)
    request = hub._request

    def flip_last_byte(method, url, body=None, headers=None, limit=None):
        status, response_headers, data = request(method, url, body, headers, limit)
        return status, response_headers, data[:-1] + bytes([data[-1] ^ 1])

    monkeypatch.setattr(hub, "_request", flip_last_byte)
    with pytest.raises(HubError, match="sha256"):
        hub.pull("alice/tamper", server=server.url)
    with pytest.raises(HubError, match="sha256"):
        asyncio.run(hub.load_model_async("alice/tamper", server=server.url))


def test_bad_arguments_fail_before_any_request():
    for repo in ("alice", "alice/x/y", "/x", ""):
        with pytest.raises(ValueError, match="owner/name"):
            hub.pull(repo, server="http://127.0.0.1:1")
    with pytest.raises(ValueError, match="version"):
        hub.pull("alice/x", version="newest", server="http://127.0.0.1:1")


def test_async_twins_do_what_the_blocking_calls_do(server):
    """push_async ... delete_async natively (the same calls the browser awaits)."""
    alice = server.tokens["alice"]
    model = make_mlp().eval()
    x = engine.randn(4, 6)

    async def cycle():
        record = await hub.push_async(
            model, "alice/twins", token=alice, metadata={"epochs": 2}, server=server.url
        )
        listed = await hub.list_async(owner="alice", q="twins", server=server.url)
        details = await hub.info_async("alice/twins", server=server.url)
        pulled = await hub.pull_async("alice/twins", version=record["version"], server=server.url)
        loaded = await hub.load_model_async("alice/twins", server=server.url)
        await hub.delete_async("alice/twins", token=alice, server=server.url)
        try:
            await hub.info_async("alice/twins", server=server.url)
        except HubError as error:
            return record, listed, details, pulled, loaded, error
        raise AssertionError("the model is still there after delete_async")

    record, listed, details, pulled, loaded, gone = asyncio.run(cycle())
    assert (record["owner"], record["name"], record["version"]) == ("alice", "twins", 1)
    assert record["metadata"]["epochs"] == "2"
    assert [(m["name"], m["latest_version"]) for m in listed] == [("twins", 1)]
    assert [version["sha256"] for version in details["versions"]] == [record["sha256"]]
    assert as_lists(pulled) == as_lists(model.state_dict())
    assert repr(loaded) == repr(model) and not loaded.training
    with engine.no_grad():
        assert loaded(x).tolist() == model(x).tolist()
    assert gone.status == 404 and "alice/twins" in gone.message


def test_async_twins_raise_the_same_errors(server):
    async def push_with(token):
        return await hub.push_async(make_mlp(), "alice/async-err", token=token, server=server.url)

    with pytest.raises(HubError) as error:
        asyncio.run(push_with("not-a-token"))
    assert (error.value.status, error.value.code) == (401, "unauthorized")
    with pytest.raises(HubError) as error:
        asyncio.run(push_with(server.tokens["bob"]))
    assert error.value.status == 403
    with pytest.raises(HubError) as error:
        asyncio.run(hub.load_model_async("nobody/nothing", server=server.url))
    assert error.value.status == 404
    with pytest.raises(HubError, match="cannot reach the model hub"):
        asyncio.run(hub.list_async(server=f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(ValueError, match="owner/name"):
        asyncio.run(hub.push_async(make_mlp(), "no-slash", token="t"))


def test_example_script_pushes_lists_and_pulls(server):
    result = subprocess.run(
        [sys.executable, "examples/hub_push_pull.py", "--server", server.url]
        + ["--token", server.tokens["alice"], "--repo", "alice/example", "--epochs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pushed alice/example version 1" in result.stdout
    assert "identical predictions: True" in result.stdout
    metadata = hub.info("alice/example", server=server.url)["versions"][0]["metadata"]
    assert 0 < float(metadata["accuracy"]) <= 1


def test_engine_hub_never_imports_the_server():
    code = "import sys; sys.modules['server'] = None; import engine.hub; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


# ----------------------------------------------------------------------------- a scripted server
#
# Answers that a real exchange never gives (redirects, non-JSON, endless or dripping bodies),
# from a bare http.server on 127.0.0.1. Each handler gets the request and answers it itself.


class Scripted:
    def __init__(self):
        self.requests = []  # (method, path, headers)
        self.answer = lambda handler: handler.reply(200, b"{}")
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                owner.requests.append((self.command, self.path, dict(self.headers)))
                try:
                    owner.answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading, as it should

            do_GET = do_POST = do_DELETE = handle_one

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted():
    servers = []

    def make():
        servers.append(Scripted())
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def redirect_to(url, status=302):
    return lambda handler: handler.reply(status, b"", [("Location", url)])


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_push_never_follows_a_redirect_nor_hands_on_the_token(scripted, status):
    exchange, elsewhere = scripted(), scripted()
    elsewhere.answer = lambda handler: handler.reply(201, b'{"version": 99}')
    exchange.answer = redirect_to(elsewhere.url + "/collect", status)
    with pytest.raises(HubError) as error:
        hub.push(make_mlp(), "alice/m", token="secret", server=exchange.url)
    assert (error.value.status, error.value.code) == (status, "redirected")
    assert "/collect" in error.value.message
    assert [method for method, _, _ in exchange.requests] == ["POST"]
    assert elsewhere.requests == []
    with pytest.raises(HubError):
        asyncio.run(hub.push_async(make_mlp(), "alice/m", token="secret", server=exchange.url))
    assert elsewhere.requests == []


@pytest.mark.parametrize("status", [302, 303, 307])
def test_a_redirected_delete_is_an_error_not_a_success(scripted, status):
    exchange, elsewhere = scripted(), scripted()
    exchange.answer = redirect_to(elsewhere.url + "/", status)
    with pytest.raises(HubError) as error:
        hub.delete("alice/m", token="secret", server=exchange.url)
    assert error.value.status == status
    with pytest.raises(HubError):
        asyncio.run(hub.delete_async("alice/m", version=1, token="secret", server=exchange.url))
    assert elsewhere.requests == []


@pytest.mark.parametrize(
    "call",
    [
        lambda url: hub.push({"w": engine.ones(2)}, "alice/m", token="t", server=url),
        lambda url: hub.delete("alice/m", token="t", server=url),
        lambda url: hub.info("alice/m", server=url),
    ],
)
@pytest.mark.parametrize("status", [200, 202, 204, 206, 304])
def test_every_status_but_the_expected_one_is_a_hub_error(scripted, call, status):
    exchange = scripted()
    body = b"" if status in (204, 304) else b'{"version": 1, "name": "m"}'
    exchange.answer = lambda handler: handler.reply(status, body)
    expected = {"POST": 201, "DELETE": 204, "GET": 200}
    try:
        call(exchange.url)
    except HubError as error:
        assert error.status == status
    else:
        assert status == expected[exchange.requests[0][0]]


def test_a_read_follows_a_redirect_on_its_own_origin_without_the_token(scripted):
    exchange = scripted()

    def answer(handler):
        if handler.path.startswith("/api/"):
            handler.reply(307, b"", [("Location", "/moved" + handler.path)])
        else:
            handler.reply(200, b'{"name": "m", "versions": []}')

    exchange.answer = answer
    assert hub.info("alice/m", server=exchange.url)["name"] == "m"
    status, _, data = hub._request(
        "GET", exchange.url + "/api/x", headers={"Authorization": "Bearer secret"}
    )
    assert status == 200
    first, second = exchange.requests[-2:]
    assert first[2]["Authorization"] == "Bearer secret"
    assert second[1] == "/moved/api/x" and "Authorization" not in second[2]


def test_a_read_does_not_follow_a_redirect_to_another_origin(scripted):
    exchange, elsewhere = scripted(), scripted()
    exchange.answer = redirect_to(elsewhere.url + "/api/models/alice/m")
    for call in (
        lambda: hub.info("alice/m", server=exchange.url),
        lambda: hub.pull("alice/m", server=exchange.url),
        lambda: asyncio.run(hub.list_async(server=exchange.url)),
    ):
        with pytest.raises(HubError) as error:
            call()
        assert error.value.code == "redirect_refused"
    assert elsewhere.requests == []


def test_endless_redirects_end(scripted):
    exchange = scripted()
    exchange.answer = redirect_to("/again")
    with pytest.raises(HubError, match="redirects") as error:
        hub.info("alice/m", server=exchange.url)
    assert error.value.code == "too_many_redirects"
    assert len(exchange.requests) == hub.MAX_REDIRECTS + 1


@pytest.mark.parametrize("body", [b"<html>hello</html>", b"", b"\xff\xfe", b"[1, 2]"])
def test_an_answer_that_is_not_the_json_expected_is_a_hub_error(scripted, body):
    exchange = scripted()
    exchange.answer = lambda handler: handler.reply(200, body)
    with pytest.raises(HubError) as error:
        hub.list(server=exchange.url)
    assert (error.value.status, error.value.code) == (200, "invalid_response")
    if body != b"[1, 2]":
        for call in (hub.info, hub.info_async):
            with pytest.raises(HubError, match="not JSON"):
                result = call("alice/m", server=exchange.url)
                if asyncio.iscoroutine(result):
                    asyncio.run(result)
        exchange.answer = lambda handler: handler.reply(201, body)
        with pytest.raises(HubError, match="not JSON"):
            hub.push({"w": engine.ones(2)}, "alice/m", token="t", server=exchange.url)


def endless_body(handler, declare=None):
    """200 with an ETag and a body that never ends (a Content-Length of `declare`, if any)."""
    handler.send_response(200)
    handler.send_header("ETag", '"' + "0" * 64 + '"')
    if declare is not None:
        handler.send_header("Content-Length", str(declare))
    handler.end_headers()
    for _ in range(1024):
        handler.wfile.write(b"\0" * 1024 * 1024)


def test_pull_refuses_an_answer_over_its_cap_as_it_streams(scripted):
    exchange = scripted()
    exchange.answer = endless_body
    started = time.monotonic()
    with pytest.raises(HubError) as error:
        hub.pull("alice/m", server=exchange.url, max_bytes=3 * 1024 * 1024)
    assert error.value.code == "too_large" and "3145728" in error.value.message
    with pytest.raises(HubError) as error:
        asyncio.run(hub.load_model_async("alice/m", server=exchange.url, max_bytes=1000))
    assert error.value.code == "too_large"
    assert time.monotonic() - started < 10  # a gigabyte was not read


def test_pull_refuses_a_declared_length_over_its_cap_before_reading(scripted, monkeypatch):
    exchange = scripted()
    exchange.answer = lambda handler: endless_body(handler, declare=10**12)
    with pytest.raises(HubError, match="1000000000000 bytes") as error:
        hub.pull("alice/m", server=exchange.url)
    assert error.value.code == "too_large"
    monkeypatch.setattr(hub, "MAX_RESPONSE_BYTES", 100)  # for JSON and error bodies
    exchange.answer = lambda handler: handler.reply(404, b"x" * 1000)
    with pytest.raises(HubError, match="over the limit of 100"):
        hub.info("alice/m", server=exchange.url)


def test_every_call_has_a_deadline(scripted, monkeypatch):
    """A server that answers a byte at a time, each well within the per-read timeout."""
    exchange = scripted()

    def drip(handler):
        handler.send_response(200)
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.1)

    exchange.answer = drip
    monkeypatch.setattr(hub, "DEADLINE", 1)
    started = time.monotonic()
    with pytest.raises(HubError) as error:
        hub.list(server=exchange.url)
    assert error.value.code == "timeout" and error.value.status is None
    assert time.monotonic() - started < 3


# ----------------------------------------------------------------------------- forged files


def forged_file(dtype="F32", architecture=None):
    header = {"w": {"dtype": dtype, "shape": [1], "data_offsets": [0, 4]}}
    if architecture is not None:
        header["__metadata__"] = {hub.ARCHITECTURE_KEY: architecture}
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + b"\0" * 4


@pytest.mark.parametrize("dtype", [["F32"], {"F32": 4}, None, 4])
def test_a_dtype_that_is_not_a_string_is_a_value_error(dtype):
    with pytest.raises(ValueError, match="unsupported dtype"):
        engine.serialization.loads(forged_file(dtype))
    with pytest.raises(ValueError, match="unsupported dtype"):
        hub._model_from_file("alice/m", 1, forged_file(dtype, architecture="{}"))


def nested(depth):
    """The JSON of Sequentials in Sequentials, `depth` deep, around one Identity."""
    level = '"type": "Sequential", "children": [{"name": "0", '
    return '{"format_version": 1, ' + level * depth + '"type": "Identity"' + "}]" * depth + "}"


@pytest.mark.parametrize(
    "architecture, problem",
    [
        (nested(50_000), "nested too deeply"),  # too deep for json.loads itself
        (nested(300), "nested more than 100 deep"),  # parses, too deep to build
        ('{"format_version": 1, "type": "Linear", "in_features": ' + "[" * 10**5, "JSON"),
    ],
)
def test_a_deeply_nested_architecture_is_a_value_error(architecture, problem):
    with pytest.raises(ValueError, match=problem):
        hub._model_from_file("alice/m", 1, forged_file(architecture=architecture))


def test_an_architecture_nested_as_deep_as_allowed_still_builds():
    model = engine.nn.architecture.build(nested(engine.nn.architecture.MAX_DEPTH))
    assert type(model).__name__ == "Sequential"
