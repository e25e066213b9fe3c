"""The pages (/, /console, /demos/train) and what the server serves them with.

The `browser` tests drive Debian's Chromium (WebGPU on SwiftShader) through Playwright
against a real `python -m server` on 127.0.0.1 (fixtures in conftest.py): the console
computes what the native engine computes, the training demo reaches 90% test accuracy,
a browser without WebGPU gets a clear message, and no page logs an error. The wheel and
the Pyodide routes are checked in-process, without a browser.
"""

import ast
import base64
import hashlib
import importlib
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.routes.pages import DEFAULT_PYODIDE_DIR
from server.settings import Settings
from server.wheel import build_wheel, engine_wheel

ROOT = Path(__file__).resolve().parents[2]
BOOT_TIMEOUT_MS = 120_000
TRAIN_TIMEOUT_MS = 180_000

# The console test's program: run natively here and in the page on the same seed. Inputs
# come from `rand` (Philox bits, identical on both sides); `randn` is compared too, to
# float32 rounding (its log and cos/sin are shaders/math.wgsl's on both drivers).
PROGRAM = """
import json
import engine
import engine.nn.functional as F

engine.manual_seed(7)
a = engine.rand(6, 9) * 4 - 2
b = engine.rand(9, 5) * 4 - 2
w = (engine.rand(9, 4) - 0.5).requires_grad_()
out = {"rand": engine.rand(5).tolist(), "matmul": (a @ b).tolist()}
out["softmax"] = F.softmax(a @ b, dim=1).tolist()
loss = (F.softmax(a @ w, dim=1) * engine.arange(4.0)).sum() + (w * w).mean()
loss.backward()
out["loss"] = loss.item()
out["grad"] = w.grad.tolist()
engine.manual_seed(8)
out["randn"] = engine.randn(4096).tolist()
json.dumps(out)
"""


# --- without a browser: the wheel and the files the pages load ---------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    with TestClient(create_app(settings)) as client:
        yield client


def test_wheel_is_a_valid_pure_wheel_with_the_shaders():
    wheel = engine_wheel()
    assert wheel.name == "webgpu_engine-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(io.BytesIO(wheel.content)) as archive:
        names = set(archive.namelist())
        dist_info = "webgpu_engine-0.1.0.dist-info"
        assert {f"{dist_info}/{n}" for n in ("METADATA", "WHEEL", "RECORD")} <= names
        assert "Root-Is-Purelib: true" in archive.read(f"{dist_info}/WHEEL").decode()
        shaders = {p.name for p in (ROOT / "shaders").glob("*.wgsl")}
        assert shaders and {f"engine/shaders/{s}" for s in shaders} <= names
        assert "engine/datasets/digits.bin.gz" in names
        assert {"engine/web/runner.py", "engine/web/train.py"} <= names  # the pages' Python
        assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
        record = archive.read(f"{dist_info}/RECORD").decode().splitlines()
        assert len(record) == len(names)
        for line in record:
            name, digest, size = line.rsplit(",", 2)
            if name.endswith("RECORD"):
                continue
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == "sha256=" + expected.decode() and int(size) == len(data)
    # The same sources give the same bytes (the ETag is stable).
    assert build_wheel().sha256 == wheel.sha256


def test_wheel_imports_natively_from_a_temporary_folder(tmp_path):
    with zipfile.ZipFile(io.BytesIO(engine_wheel().content)) as archive:
        archive.extractall(tmp_path)
    # The engine of the wheel (not the repository's), its shaders from engine/shaders/.
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import engine, engine.datasets\n"
        "from engine.backend import kernel\n"
        "assert engine.__file__.startswith(sys.argv[1]), engine.__file__\n"
        "assert kernel.template('matmul')\n"
        "print(len(engine.datasets.load_digits()[1]))\n"
        "print((engine.ones(2, 3) @ engine.ones(3, 2)).tolist())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["1797", "[[3.0, 3.0], [3.0, 3.0]]"]


def test_the_pages_python_is_imported_from_the_engine_not_written_in_their_scripts():
    # engine/web/ holds it (ruff-checked, tests/engine/web/); the scripts import and call it.
    imported = set()
    for script in sorted((ROOT / "web" / "static").glob("*.js")):
        text = script.read_text()
        assert not re.search(r"pyodide\.(runPython|globals)", text), script.name
        imported |= set(re.findall(r'pyodide\.pyimport\("([\w.]+)"\)', text))
    assert imported == {"engine.backend.browser", "engine.web.runner", "engine.web.train"}
    for name in imported - {"engine.backend.browser"}:  # that one imports `js` (Pyodide only)
        importlib.import_module(name)


def test_wheel_routes(client):
    latest = client.get("/wheels/latest.json").json()
    assert latest["url"] == f"/wheels/{latest['name']}"
    response = client.get(latest["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["etag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'
    again = client.get(latest["url"], headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/wheels/webgpu_engine-9.9.9-py3-none-any.whl").status_code == 404


@pytest.mark.skipif(
    not (DEFAULT_PYODIDE_DIR / "pyodide.mjs").is_file(),
    reason="node_modules/pyodide is missing (`make node` installs it)",
)
def test_pyodide_files_are_served_with_their_types(client):
    types = {
        "pyodide.mjs": "text/javascript",
        "pyodide.asm.mjs": "text/javascript",
        "pyodide.asm.wasm": "application/wasm",
        "pyodide-lock.json": "application/json",
        "python_stdlib.zip": "application/zip",
    }
    for name, media_type in types.items():
        response = client.get(f"/pyodide/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].split(";")[0] == media_type
        assert "max-age=31536000" in response.headers["cache-control"]
    for missing in ("nothing.js", "..%2Fpackage.json", ".hidden"):
        assert client.get(f"/pyodide/{missing}").status_code == 404


@pytest.mark.parametrize("path", ["/", "/console", "/demos/train"])
def test_pages_are_served_without_external_links(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-testid="webgpu-error"' in response.text
    assert "http://" not in response.text and "https://" not in response.text


# --- in Chromium ---------------------------------------------------------------------------


class PageErrors:
    """Uncaught exceptions and console errors of one page."""

    def __init__(self, page):
        self.messages = []
        page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))
        page.on("console", self._console)

    def _console(self, message):
        if message.type == "error":
            self.messages.append(f"console.error: {message.text}")

    def check(self):
        assert self.messages == []


@pytest.fixture
def open_page(browser, server_url):
    """open_page(path) -> (page, errors): a fresh context; errors checked at teardown."""
    contexts = []

    def open_(path, init_script=None):
        context = browser.new_context()
        contexts.append(context)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        errors = PageErrors(page)
        page.goto(server_url + path)
        return page, errors

    yield open_
    for context in contexts:
        context.close()


def _booted(page):
    page.wait_for_function("() => typeof window.runPython === 'function'", timeout=BOOT_TIMEOUT_MS)


def _text(page, testid):
    return page.get_by_test_id(testid).text_content().strip()


@pytest.mark.browser
def test_home_page_shows_the_adapter_and_links(open_page):
    page, errors = open_page("/")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=adapter]').textContent.includes('checking')"
    )
    assert "swiftshader" in _text(page, "adapter").lower()
    assert page.get_by_test_id("webgpu-error").is_hidden()
    for href in ("/demos/train", "/console", "/hub"):
        assert page.locator(f'main a[href="{href}"]').count() == 1
    errors.check()


@pytest.mark.browser
def test_console_matches_native_engine(open_page):
    page, errors = open_page("/console")
    _booted(page)
    run = page.evaluate("(code) => window.runPython(code)", PROGRAM)
    assert run["error"] is None, run["error"]
    browser_values = json.loads(ast.literal_eval(run["result"]))

    namespace = {}
    exec(PROGRAM.rsplit("\n", 2)[0], namespace)  # all but the last expression
    native = namespace["out"]
    assert browser_values["rand"] == native["rand"]
    # Normals too, to float32 rounding: math.wgsl's log and cos/sin, not the adapter's
    # builtins (SwiftShader's differed from lavapipe's by up to 8e-4).
    np.testing.assert_allclose(browser_values["randn"], native["randn"], rtol=0, atol=2e-6)
    for key in ("matmul", "softmax", "loss", "grad"):
        np.testing.assert_allclose(browser_values[key], native[key], rtol=1e-4, atol=1e-6)

    # The page itself: the editor, Ctrl+Enter, stdout and the last expression's value.
    page.get_by_test_id("editor").fill("print('hello', 6 * 7)\ntorch.ones(3).sum().item()")
    page.get_by_test_id("editor").press("Control+Enter")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=output]').textContent.includes('3.0')"
    )
    assert _text(page, "output") == "hello 42\n3.0"
    assert page.get_by_test_id("error").is_hidden()
    page.get_by_test_id("editor").fill("x = 1\n\ndef f():\n    return 1 / 0\n\nf()")
    page.get_by_test_id("run").click()
    page.get_by_test_id("error").wait_for(state="visible")
    traceback = _text(page, "error")
    assert traceback.startswith("Traceback") and "ZeroDivisionError" in traceback
    assert 'File "<console>", line 4, in f' in traceback and "_pyodide" not in traceback
    errors.check()


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_training_demo_reaches_90_percent(open_page):
    page, errors = open_page("/demos/train?autostart=1")
    page.wait_for_function(
        "() => ['done', 'error'].includes("
        "document.querySelector('[data-testid=status]').textContent)",
        timeout=BOOT_TIMEOUT_MS + TRAIN_TIMEOUT_MS,
    )
    assert _text(page, "status") == "done", _text(page, "status-detail")
    assert float(_text(page, "accuracy")) >= 90.0
    assert 0 < float(_text(page, "loss")) < 1.0
    assert float(_text(page, "steps-per-second")) > 0
    assert page.evaluate("typeof window.runPython") == "function"

    # Draw a "1" (a vertical stroke): a prediction with ten probabilities appears.
    pad = page.get_by_test_id("draw-canvas")
    pad.scroll_into_view_if_needed()  # the mouse reaches only what is in the viewport
    box = pad.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + 30)
    page.mouse.down()
    for y in range(40, int(box["height"]) - 30, 10):
        page.mouse.move(x, box["y"] + y)
    page.mouse.up()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=probability]').length === 10"
    )
    assert _text(page, "prediction") in "0123456789"
    probabilities = [
        float(t.strip().split("%")[0])
        for t in page.get_by_test_id("probability").all_text_contents()
    ]
    assert abs(sum(probabilities) - 100) < 1.0
    errors.check()


# Chromium 156 keeps navigator.gpu under --disable-features=WebGPU, so WebGPU is taken away
# by a script that runs before the page's own: as in a browser without it (no navigator.gpu),
# or with it but without an adapter (requestAdapter() resolves to null).
WITHOUT_WEBGPU = {
    "missing": "delete Navigator.prototype.gpu;",
    "no-adapter": "GPU.prototype.requestAdapter = async () => null;",
}


@pytest.mark.browser
@pytest.mark.parametrize(
    "path, mode",
    [("/", "missing"), ("/console", "missing"), ("/demos/train", "missing")]
    + [("/demos/train", "no-adapter")],
)
def test_without_webgpu_the_page_says_so(open_page, path, mode):
    page, errors = open_page(path, init_script=WITHOUT_WEBGPU[mode])
    has_gpu = page.evaluate("() => 'gpu' in navigator")
    assert has_gpu is (mode != "missing")
    message = page.get_by_test_id("webgpu-error")
    message.wait_for(state="visible", timeout=30_000)
    text = message.text_content()
    assert "needs WebGPU" in text and "Chrome" in text and "enable-unsafe-webgpu" in text
    assert ("no GPU adapter" in text) is (mode == "no-adapter")
    if path == "/":
        assert "unavailable" in _text(page, "adapter")
    else:
        assert _text(page, "status") == "error"
    assert "Traceback" not in page.content()
    errors.check()


@pytest.mark.browser
def test_hub_page_has_no_errors(open_page):
    page, errors = open_page("/hub")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=list-status]').textContent.includes('Loading')"
    )
    errors.check()


# Safari and Firefox have WebGPU but no JSPI (WebAssembly.Suspending); Chromium cannot turn
# it off by flag, so a script takes it away before Pyodide looks for it.
WITHOUT_JSPI = "delete WebAssembly.Suspending; delete WebAssembly.promising;"


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_the_pages_work_without_jspi(open_page):
    page, errors = open_page("/demos/train?autostart=1&epochs=2", init_script=WITHOUT_JSPI)
    page.wait_for_function(
        "() => ['done', 'error'].includes("
        "document.querySelector('[data-testid=status]').textContent)",
        timeout=BOOT_TIMEOUT_MS + TRAIN_TIMEOUT_MS,
    )
    assert _text(page, "status") == "done", _text(page, "status-detail")
    assert float(_text(page, "accuracy")) >= 80.0  # two epochs
    run = page.evaluate("() => window.runPython('import pyodide.ffi\\npyodide.ffi.can_run_sync()')")
    assert run["result"] == "False"  # really without stack switching
    errors.check()

    page, errors = open_page("/console", init_script=WITHOUT_JSPI)
    _booted(page)
    assert page.get_by_test_id("no-jspi").is_visible()
    page.get_by_test_id("run").click()  # the example, in its awaited form
    page.wait_for_function(
        "() => document.querySelector('[data-testid=output]').textContent.includes('grad:')"
    )
    assert page.get_by_test_id("error").is_hidden()
    run = page.evaluate("() => window.runPython('torch.ones(3).sum().item()')")
    assert "await t.item_async()" in run["error"]  # the synchronous form names its twin
    run = page.evaluate("() => window.runPython('await torch.ones(3).sum().item_async()')")
    assert run == {"stdout": "", "stderr": "", "result": "3.0", "error": None}
    errors.check()


@pytest.mark.browser
def test_the_console_hides_the_jspi_note_where_jspi_works(open_page):
    page, errors = open_page("/console")
    _booted(page)
    assert page.get_by_test_id("no-jspi").is_hidden()
    errors.check()
