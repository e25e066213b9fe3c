"""engine.hub in the browser, and the training demo's Share / Load from hub, in Chromium.

A real server with tokens (tests/hub_server.py) serves /demos/train; the page trains one
epoch, then models travel both ways: shared from the page and loaded natively with
`engine.hub.load_model`, pushed natively and loaded in the page, with the same predictions
on both sides. The page's error messages (bad token, unknown model or version, a model of
the wrong shape) and the client's awaitable twins inside the page are checked too.

One page serves the whole module (booting Pyodide and training cost seconds): the tests run
in file order and each says what it expects of the model in use.
"""

import ast
import json

import numpy as np
import pytest

import engine
import engine.hub as hub
import engine.nn.functional as F
from engine import nn
from engine.datasets import Digits
from engine.hub import HubError
from tests.hub_server import free_port, running_hub, skip_without_server

BOOT_TIMEOUT_MS = 120_000
TRAIN_TIMEOUT_MS = 120_000
HUB_TIMEOUT_MS = 30_000
# float32 on two different GPUs (SwiftShader in Chromium, lavapipe here): the same weights
# give logits equal to a few ulps, far below the 1e-5 allowed.
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    skip_without_server()
    with running_hub(tmp_path_factory.mktemp("hub-browser") / "data") as running:
        yield running


class ConsoleErrors:
    """Uncaught exceptions and console errors of the page.

    Chromium logs every fetch answered with an error status ("Failed to load resource: the
    server responded with a status of 401"); the error-path test expects exactly those.
    """

    def __init__(self, page):
        self.messages = []
        page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda m: self.messages.append(f"console.error: {m.text}") if m.type == "error" else 0,
        )

    def take(self):
        messages, self.messages = self.messages, []
        return messages


@pytest.fixture(scope="module")
def page(browser, server):
    """/demos/train on the hub server, after one epoch of training (autostart)."""
    context = browser.new_context()
    page = context.new_page()
    errors = ConsoleErrors(page)
    page.goto(server.url + "/demos/train?epochs=1&autostart=1")
    page.wait_for_function(
        "() => ['done', 'error'].includes("
        "document.querySelector('[data-testid=status]').textContent)",
        timeout=BOOT_TIMEOUT_MS + TRAIN_TIMEOUT_MS,
    )
    assert _text(page, "status") == "done", _text(page, "status-detail")
    assert errors.take() == []
    page.errors = errors
    yield page
    context.close()


def _text(page, testid):
    return page.get_by_test_id(testid).text_content().strip()


def _run(page, code):
    """The value of `code`'s last expression (a JSON string) run by window.runPython."""
    run = page.evaluate("(code) => window.runPython(code)", code)
    assert run["error"] is None, run["error"]
    return json.loads(ast.literal_eval(run["result"]))


def _submit(page, form, fields):
    """Fill a hub form, submit it, and return (state, message) once it has answered."""
    for testid, value in fields.items():
        page.get_by_test_id(testid).fill(value)
    result = "share-result" if form == "share" else "load-result"
    page.get_by_test_id(form).click()
    page.wait_for_function(
        f"() => ['ok', 'error'].includes("
        f"document.querySelector('[data-testid={result}]').dataset.state)",
        timeout=HUB_TIMEOUT_MS,
    )
    element = page.get_by_test_id(result)
    return element.get_attribute("data-state"), element.text_content().strip()


def _test_images(count=24):
    images = Digits(train=False).data.reshape(-1, 64)[:count]
    return images.tolist()


# What the page computes with the model in use: its logits for a batch, and the
# probabilities its drawing prediction (`predict` of engine/web/train.py, the function the page
# calls) gives for two images.
PAGE_PREDICTIONS = """
import engine.web.train as demo
images = engine.tensor({images})
with engine.no_grad():
    logits = model(images).tolist()
drawn = [json.loads(await demo.predict(json.dumps(image))) for image in {images}[:2]]
json.dumps({{"logits": logits, "drawn": drawn}})
"""


def _page_predictions(page, images):
    return _run(page, "import json\n" + PAGE_PREDICTIONS.format(images=images))


def _native_predictions(model, images):
    with engine.no_grad():
        logits = model(engine.tensor(images))
        drawn = F.softmax(logits[:2], dim=1)
    return {"logits": logits.tolist(), "drawn": drawn.tolist()}


def _assert_same_predictions(page_side, native_side):
    for key in ("logits", "drawn"):
        np.testing.assert_allclose(page_side[key], native_side[key], **TOLERANCE)
    assert np.argmax(page_side["logits"], axis=1).tolist() == (
        np.argmax(native_side["logits"], axis=1).tolist()
    )


def digits_mlp(seed, hidden=16):
    engine.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10)).eval()


def test_share_from_the_page_then_load_natively(page, server):
    assert _text(page, "model-source").startswith("trained in this page")
    state, message = _submit(
        page,
        "share",
        {"share-repo": "alice/from-page", "share-token": server.tokens["alice"]},
    )
    assert state == "ok", message
    assert message.startswith("Shared as alice/from-page version 1.")
    assert page.get_by_test_id("share-result").locator("a").get_attribute("href") == (
        "/hub?model=alice%2Ffrom-page"
    )

    loaded = hub.load_model("alice/from-page", server=server.url)
    assert repr(loaded) == repr(digits_mlp(0, hidden=64))
    weights = _run(
        page, "import json\njson.dumps({k: v.tolist() for k, v in model.state_dict().items()})"
    )
    assert weights == {name: t.tolist() for name, t in loaded.state_dict().items()}
    images = _test_images()
    _assert_same_predictions(_page_predictions(page, images), _native_predictions(loaded, images))

    metadata = hub.info("alice/from-page", server=server.url)["versions"][0]["metadata"]
    assert metadata["trained_in"] == "browser" and metadata["dataset"] == "digits-8x8"
    assert (metadata["epochs"], metadata["hidden"], metadata["optimizer"]) == ("1", "64", "adam")
    assert metadata["steps"] == "45" and float(metadata["lr"]) == 0.01
    assert abs(100 * float(metadata["accuracy"]) - float(_text(page, "accuracy"))) < 0.06
    assert page.errors.take() == []


def test_push_natively_then_load_in_the_page(page, server):
    first, second = digits_mlp(1), digits_mlp(2, hidden=24)
    bob = server.tokens["bob"]
    hub.push(first, "bob/native", token=bob, metadata={"accuracy": 0.5}, server=server.url)
    hub.push(second, "bob/native", token=bob, server=server.url)
    images = _test_images()

    state, message = _submit(page, "load", {"load-repo": "bob/native", "load-version": ""})
    assert state == "ok", message
    assert message.startswith("Loaded bob/native version 2")
    assert _text(page, "model-source") == "bob/native version 2 from the hub"
    _assert_same_predictions(_page_predictions(page, images), _native_predictions(second, images))

    state, message = _submit(page, "load", {"load-version": "1"})
    assert state == "ok", message
    assert message.startswith("Loaded bob/native version 1 (test accuracy 50.0% when")
    assert _text(page, "model-source") == "bob/native version 1 from the hub"
    _assert_same_predictions(_page_predictions(page, images), _native_predictions(first, images))
    assert page.errors.take() == []


def test_errors_are_shown_in_the_page(page, server):
    # A model of the wrong shape is refused and the model in use stays.
    wrong = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    alice = server.tokens["alice"]
    hub.push(wrong, "alice/wrong-shape", token=alice, server=server.url)
    hub.push({"w": engine.ones(2)}, "alice/no-architecture", token=alice, server=server.url)
    source = _text(page, "model-source")
    images = _test_images(4)
    before = _page_predictions(page, images)

    state, message = _submit(page, "load", {"load-repo": "alice/wrong-shape", "load-version": ""})
    assert state == "error"
    assert message == (
        "alice/wrong-shape version 1 does not fit this demo: it takes 6 inputs and gives 3 "
        "outputs, but this demo needs 64 inputs (8×8 pixels) and 10 outputs (the digits 0–9). "
        "The model in use is unchanged."
    )
    assert _text(page, "model-source") == source
    assert _page_predictions(page, images) == before

    state, message = _submit(page, "load", {"load-repo": "alice/no-architecture"})
    assert state == "error" and "stores no architecture" in message

    # The server's own messages, as the native client gets them.
    with pytest.raises(HubError) as unknown_model:
        hub.info("alice/no-such-model", server=server.url)
    with pytest.raises(HubError) as unknown_version:
        hub.load_model("bob/native", version=9, server=server.url)
    with pytest.raises(HubError) as bad_token:
        hub.push(digits_mlp(0), "alice/x", token="wgt_not-a-token", server=server.url)
    assert bad_token.value.status == 401 and unknown_model.value.status == 404

    state, message = _submit(page, "load", {"load-repo": "alice/no-such-model"})
    assert state == "error"
    assert message == (
        f"Could not load alice/no-such-model: the server answered 404 not_found: "
        f"{unknown_model.value.message}"
    )
    state, message = _submit(page, "load", {"load-repo": "bob/native", "load-version": "9"})
    assert state == "error" and message.endswith(f"404 not_found: {unknown_version.value.message}")

    state, message = _submit(
        page, "share", {"share-repo": "alice/refused", "share-token": "wgt_not-a-token"}
    )
    assert state == "error"
    assert message == f"Not shared: the server answered 401 unauthorized: {bad_token.value.message}"
    state, message = _submit(
        page, "share", {"share-repo": "alice/refused", "share-token": server.tokens["bob"]}
    )
    assert state == "error" and "403 forbidden" in message and "'bob'" in message
    with pytest.raises(HubError):
        hub.info("alice/refused", server=server.url)  # nothing was stored

    assert _text(page, "model-source") == source
    logged = page.errors.take()
    assert logged and all("Failed to load resource" in m for m in logged), logged
    assert {int(m.split("status of ")[1][:3]) for m in logged} == {401, 403, 404}


def test_the_token_is_kept_only_when_asked_and_only_in_session_storage(page, server):
    page.get_by_test_id("remember-token").uncheck()
    _submit(page, "share", {"share-repo": "alice/kept", "share-token": server.tokens["alice"]})
    stored = "() => [sessionStorage.getItem('engine.hub.token'), localStorage.length]"
    assert page.evaluate(stored) == [None, 0]
    page.get_by_test_id("remember-token").check()
    assert page.evaluate(stored) == [server.tokens["alice"], 0]
    assert page.get_by_test_id("share-token").get_attribute("type") == "password"
    page.get_by_test_id("remember-token").uncheck()
    assert page.evaluate(stored) == [None, 0]
    assert page.errors.take() == []


# Runs in the page through window.runPython (so under JSPI). No server= anywhere: in a page
# the hub is the page's own origin.
ASYNC_TWINS = """
import json
import js
from pyodide.ffi import create_proxy
import engine.hub as hub

out = {"server": hub._server(None), "origin": js.location.origin}
engine.manual_seed(5)
net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
record = await hub.push_async(net, "alice/twins", token=TOKEN, metadata={"from": "page"})
out["record"] = [record["owner"], record["name"], record["version"], record["metadata"]["from"]]
out["list"] = [m["name"] for m in await hub.list_async(owner="alice", q="twins")]
out["info"] = [v["version"] for v in (await hub.info_async("alice/twins"))["versions"]]
pulled = await hub.pull_async("alice/twins")
out["pulled"] = {k: await v.tolist_async() for k, v in pulled.items()}
out["state"] = {k: await v.tolist_async() for k, v in net.state_dict().items()}
loaded = await hub.load_model_async("alice/twins", version=1)
x = engine.tensor([[0.5, -1.0, 2.0]])
out["loaded"] = [await loaded(x).tolist_async(), await net(x).tolist_async()]
# the blocking names work here (JSPI), with the same answers
out["sync"] = [hub.info("alice/twins")["versions"][0]["sha256"] == record["sha256"],
               hub.pull("alice/twins")["0.weight"].tolist() == out["state"]["0.weight"]]
try:
    await hub.pull_async("alice/no-such-model")
except hub.HubError as error:
    out["missing"] = [error.status, error.code]
try:
    await hub.list_async(server=DOWN)
except hub.HubError as error:
    out["down"] = [error.status, error.code]
# from a synchronous JS callback Python cannot block: a clear error naming the twin
call_sync = js.Function.new("f", "return f();")
blocked = create_proxy(lambda: hub.list())
try:
    call_sync(blocked)
except Exception as error:
    out["blocked"] = str(error)
blocked.destroy()
await hub.delete_async("alice/twins", token=TOKEN)
json.dumps(out)
"""


def test_async_twins_in_the_page(page, server):
    code = ASYNC_TWINS.replace("TOKEN", repr(server.tokens["alice"]))
    out = _run(page, code.replace("DOWN", repr(f"http://127.0.0.1:{free_port()}")))
    assert out["server"] == out["origin"] == server.url
    assert out["record"] == ["alice", "twins", 1, "page"]
    assert out["list"] == ["twins"] and out["info"] == [1]
    assert out["pulled"] == out["state"]
    np.testing.assert_allclose(out["loaded"][0], out["loaded"][1], **TOLERANCE)
    assert out["sync"] == [True, True]
    assert out["missing"] == [404, "not_found"]
    assert out["down"] == [None, "connection_error"]
    assert "engine.hub.list() waits for the server" in out["blocked"]
    assert "await engine.hub.list_async(" in out["blocked"]
    with pytest.raises(HubError) as error:  # delete_async removed it
        hub.info("alice/twins", server=server.url)
    assert error.value.status == 404
    logged = page.errors.take()  # the 404 answers; the refused connection
    assert all("Failed to load resource" in m for m in logged), logged


# As in a browser without JSPI: stack switching reports itself unavailable, and fails loudly
# if it is used anyway (by the backend's readbacks or by the hub client).
WITHOUT_JSPI = """
import json
import pyodide.ffi
import engine.backend.browser as backend_browser
import engine.backend.page as backend_page
import engine.hub as hub


def no_stack_switching(awaitable):
    raise AssertionError("run_sync used without JSPI")


patched = [(module, name) for module in (pyodide.ffi, backend_browser, backend_page)
           for name in ("run_sync", "can_run_sync")]
saved = [getattr(module, name) for module, name in patched]
out = {}
try:
    for module in (pyodide.ffi, backend_browser, backend_page):
        module.run_sync, module.can_run_sync = no_stack_switching, lambda: False
    engine.manual_seed(6)
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x = engine.tensor([[1.0, -2.0, 0.5, 3.0]])
    record = await hub.push_async(net, "bob/no-jspi", token=TOKEN)
    out["version"] = record["version"]
    out["listed"] = [m["name"] for m in await hub.list_async(owner="bob", q="no-jspi")]
    out["info"] = len((await hub.info_async("bob/no-jspi"))["versions"])
    pulled = await hub.pull_async("bob/no-jspi")
    out["pulled"] = {k: await v.tolist_async() for k, v in pulled.items()}
    out["state"] = {k: await v.tolist_async() for k, v in net.state_dict().items()}
    loaded = await hub.load_model_async("bob/no-jspi")
    out["predictions"] = [await loaded(x).tolist_async(), await net(x).tolist_async()]
    for name, call in [("pull", lambda: hub.pull("bob/no-jspi")),
                       ("push", lambda: hub.push(net, "bob/no-jspi", token=TOKEN))]:
        try:
            call()
        except RuntimeError as error:
            out[name] = str(error)
    await hub.delete_async("bob/no-jspi", token=TOKEN)
finally:
    for (module, name), value in zip(patched, saved):
        setattr(module, name, value)
json.dumps(out)
"""


def test_async_twins_need_no_jspi(page, server):
    out = _run(page, WITHOUT_JSPI.replace("TOKEN", repr(server.tokens["bob"])))
    assert out["version"] == 1 and out["listed"] == ["no-jspi"] and out["info"] == 1
    assert out["pulled"] == out["state"]
    np.testing.assert_allclose(out["predictions"][0], out["predictions"][1], **TOLERANCE)
    assert "engine.hub.pull() waits for the server" in out["pull"]
    assert "Use `await engine.hub.push_async(...)`" in out["push"]
    with pytest.raises(HubError) as error:  # only push_async stored it: push was refused
        hub.info("bob/no-jspi", server=server.url)
    assert error.value.status == 404
    # the page works as before
    assert _run(page, "import json\njson.dumps(engine.ones(3).sum().item())") == 3.0
