"""The browser backend (engine/backend/browser.py) under Pyodide + Dawn for Node.

The same Python program runs natively (wgpu-py) in this process and inside Pyodide
through tests/browser/node/run_engine.mjs (npm `pyodide` + `webgpu`, Vulkan on the
project's lavapipe), on the same inputs and seeds; the results must agree. Node starts
once for the whole file (a Pyodide cold start costs seconds).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "browser" / "node" / "run_engine.mjs"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not installed (Node 20+ runs these tests)"),
    pytest.mark.timeout(240),
]

# Runs natively and in Pyodide; `run()` returns plain lists and numbers.
PROGRAM = """
import engine
import engine.nn as nn
import engine.nn.functional as F


def run():
    out = {}
    engine.manual_seed(0)
    out["rand"] = engine.rand(8).tolist()
    out["randn"] = engine.randn(2, 3).tolist()

    a = engine.tensor([[0.5, -1.0, 2.0], [3.0, 0.25, -4.0]])
    b = engine.tensor([1.0, 2.0, -0.5])
    out["broadcast"] = (a * b + a.t().t() - b / 2).tolist()
    v = engine.arange(24.0).reshape(2, 3, 4)
    view = v.permute(2, 0, 1)[1:3, :, ::2]
    out["views"] = (view * 2 + view.exp().log() + b[:2].reshape(2, 1, 1)).tolist()
    out["expand"] = (b.expand(2, 3) * a).tolist()
    out["sum"] = v.sum(dim=1).tolist()
    out["mean"] = v.mean().item()
    out["amax"] = v.amax(dim=(0, 2)).tolist()
    out["softmax"] = F.softmax(a, dim=1).tolist()
    out["log_softmax"] = F.log_softmax(a, dim=0).tolist()

    engine.manual_seed(1)
    m1 = engine.randn(16, 24)
    m2 = engine.randn(24, 8)
    out["matmul"] = (m1 @ m2).tolist()
    out["bmm"] = (m1.reshape(2, 8, 24) @ m2).tolist()

    engine.manual_seed(2)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    x = engine.randn(5, 4)
    target = engine.tensor([0, 2, 1, 1, 0])
    loss = F.cross_entropy(model(x), target)
    loss.backward()
    out["loss"] = loss.item()
    out["grads"] = [p.grad.tolist() for p in model.parameters()]

    opt = engine.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    losses = []
    for _ in range(6):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out["losses"] = losses

    try:
        engine.ones(2, 3) @ engine.ones(2, 3)
        out["shape_error"] = None
    except Exception as error:
        out["shape_error"] = type(error).__name__
    bad = engine.arange(5.0).index_select(0, engine.tensor([1, 7]))  # checked on the GPU
    try:
        bad.tolist()
        out["index_error"] = None
    except Exception as error:
        out["index_error"] = type(error).__name__
    out["after_errors"] = (engine.arange(4.0) * 3).tolist()
    return out
"""

# Pyodide only: runs after PROGRAM; top-level await is allowed (runPythonAsync).
BROWSER_EXTRAS = """
import asyncio
import sys

import js
from pyodide.ffi import can_run_sync, create_proxy

import engine.backend
from engine.backend import browser

extras = {"numpy_loaded": "numpy" in sys.modules, "can_run_sync": can_run_sync()}
dev = engine.backend.get_device()
extras["device_class"] = type(dev).__name__
extras["info"] = engine.device_info()
extras["is_cpu"] = dev.is_cpu

t = engine.arange(10.0).reshape(2, 5)
extras["item_async"] = await t.sum().item_async()
extras["tolist_async"] = await t[:, 1:3].tolist_async()
extras["tobytes_async"] = list(await engine.tensor([1, 2]).gt(1)._tobytes_async())


async def worker(k):
    z = engine.arange(4.0) * k
    first = await z.sum().item_async()  # other workers dispatch while this one waits
    return first + await (z + 1).sum().item_async()

extras["gather"] = list(await asyncio.gather(*(worker(k) for k in range(1, 6))))
try:
    await engine.arange(3.0).index_select(0, engine.tensor([5])).tolist_async()
    extras["index_error_async"] = None
except IndexError:
    extras["index_error_async"] = "IndexError"

# From a synchronous JS callback Python cannot stack-switch: a clear error, then the
# device keeps working (nothing left map-pending).
call_sync = js.Function.new("f", "return f();")
pending = engine.arange(6.0) * 2
callback = create_proxy(lambda: pending.sum().item())
try:
    call_sync(callback)
    extras["sync_error"] = None
except Exception as error:
    extras["sync_error"] = str(error)
callback.destroy()
extras["after_sync_error"] = (pending + 1).tolist()

nested = create_proxy(lambda: browser.BrowserDevice())
try:
    call_sync(nested)
    extras["init_error"] = None
except Exception as error:
    extras["init_error"] = str(error)
nested.destroy()

# a second device, created through run_sync without init()
second = browser.BrowserDevice()
extras["second_device"] = type(second).__name__
third = await browser.BrowserDevice.create_async()
extras["async_device"] = type(third).__name__

# GPU validation errors surface as Python exceptions, never as garbage
try:
    dev.compile("broken", "@compute @workgroup_size(1) fn main( {", "main", {})
    extras["compile_error"] = None
except RuntimeError as error:
    extras["compile_error"] = str(error)
SHADER = \"\"\"
@group(0) @binding(0) var<storage, read_write> data: array<f32>;
struct P { n: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(1) var<uniform> p: P;
@compute @workgroup_size(1) fn main() { data[0] = f32(p.n); }
\"\"\"
kernel = dev.compile("store", SHADER, "main", {})
params = bytes([42] + [0] * 15)
target = dev.alloc(16)
dev.dispatch(kernel, [target], params, (1, 1, 1))
extras["own_kernel"] = list(dev.read(target, 0, 4).cast("f"))
dev.dispatch(kernel, [(target, 0, 1 << 16)], params, (1, 1, 1))  # past the buffer's end
try:
    (engine.arange(3.0) + 1).tolist()
    extras["validation_error"] = None
except RuntimeError as error:
    extras["validation_error"] = str(error)
extras["after_validation_error"] = (engine.arange(3.0) + 1).tolist()
# more submits between two readbacks than error scopes kept apart (they are folded)
y = engine.zeros(4)
for _ in range(300):
    y = y + 1
    dev.flush()
extras["many_submits"] = y.tolist()
dev.dispatch(kernel, [(target, 0, 1 << 16)], params, (1, 1, 1))
dev.flush()
for _ in range(300):
    y = y + 1
    dev.flush()
try:
    y.tolist()
    extras["folded_error"] = None
except RuntimeError as error:
    extras["folded_error"] = str(error)
out = run()
out["extras"] = extras
out
"""


def _jspi_flag() -> str:
    """V8's flag for JS Promise integration (Pyodide's run_sync) in this Node."""
    version = subprocess.run([NODE, "--version"], capture_output=True, text=True).stdout
    major = int(version.strip().lstrip("v").split(".")[0])
    return "--experimental-wasm-stack-switching" if major < 22 else "--experimental-wasm-jspi"


def _run_node(code: str) -> dict:
    for package in ("pyodide", "webgpu"):
        if not (ROOT / "node_modules" / package / "package.json").is_file():
            raise AssertionError(f"node_modules/{package} is missing: run `make node`")
    proc = subprocess.run(
        [NODE, _jspi_flag(), str(RUNNER)],
        input=code,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
        timeout=200,
    )
    if proc.returncode != 0:
        raise AssertionError(f"run_engine.mjs failed ({proc.returncode}):\n{proc.stderr[-6000:]}")
    line = [x for x in proc.stdout.splitlines() if x.startswith("{")][-1]
    return json.loads(line)


@pytest.fixture(scope="module")
def results():
    """(native, pyodide) results of the same program."""
    namespace = {"__name__": "program"}
    exec(PROGRAM, namespace)
    native = json.loads(json.dumps(namespace["run"]()))
    browser = _run_node(PROGRAM + BROWSER_EXTRAS)
    return native, browser["result"]


NUMERIC = ["broadcast", "views", "expand", "sum", "mean", "amax", "softmax"]
NUMERIC += ["log_softmax", "matmul", "bmm", "loss", "grads", "losses", "after_errors"]


@pytest.mark.parametrize("key", NUMERIC)
def test_same_numbers_as_native(results, key):
    native, browser = results
    np.testing.assert_allclose(
        _flat(browser[key]),
        _flat(native[key]),
        rtol=1e-4,
        atol=1e-6,
    )


def _flat(value):
    if isinstance(value, list):
        return [x for v in value for x in _flat(v)]
    return [value]


def test_philox_identical(results):
    native, browser = results
    assert browser["rand"] == native["rand"]
    assert len(set(native["rand"])) == 8
    # Normals to float32 rounding: the shader computes its own log and cos/sin.
    np.testing.assert_allclose(_flat(browser["randn"]), _flat(native["randn"]), rtol=0, atol=2e-6)


def test_errors_same_type(results):
    native, browser = results
    assert browser["shape_error"] == native["shape_error"] is not None
    assert browser["index_error"] == native["index_error"] == "IndexError"


def test_browser_device(results):
    extras = results[1]["extras"]
    assert extras["device_class"] == "BrowserDevice"
    assert extras["numpy_loaded"] is False
    assert extras["can_run_sync"] is True
    info = extras["info"]
    assert info["backend"] == "WebGPU"
    assert info["limits"]["max-storage-buffer-binding-size"] >= 128 << 20
    assert extras["is_cpu"] == (info["adapter_type"] == "cpu")


def test_async_twins(results):
    extras = results[1]["extras"]
    assert extras["item_async"] == 45.0
    assert extras["tolist_async"] == [[1.0, 2.0], [6.0, 7.0]]
    assert extras["tobytes_async"] == [0, 1]
    assert extras["index_error_async"] == "IndexError"
    assert extras["gather"] == [6.0 * k + 6.0 * k + 4.0 for k in range(1, 6)]


def test_sync_readback_without_jspi_is_a_clear_error(results):
    extras = results[1]["extras"]
    assert "item_async" in extras["sync_error"]
    assert extras["after_sync_error"] == [1.0, 3.0, 5.0, 7.0, 9.0, 11.0]
    assert "engine.backend.browser.init()" in extras["init_error"]
    assert extras["second_device"] == extras["async_device"] == "BrowserDevice"


def test_gpu_errors_surface(results):
    extras = results[1]["extras"]
    assert "WGSL compilation failed" in extras["compile_error"]
    assert extras["own_kernel"] == [42.0]
    assert "WebGPU error" in extras["validation_error"]
    assert extras["after_validation_error"] == [1.0, 2.0, 3.0]
    assert extras["many_submits"] == [300.0] * 4
    assert "WebGPU error" in extras["folded_error"]


def test_async_twins_natively():
    """The awaitable twins exist natively too (base Device: the synchronous read)."""
    import asyncio

    import engine

    t = engine.arange(6.0).reshape(2, 3)

    async def main():
        return await t.sum().item_async(), await t[:, 1:].tolist_async()

    assert asyncio.run(main()) == (15.0, [[1.0, 2.0], [4.0, 5.0]])
    with pytest.raises(IndexError):
        asyncio.run(engine.arange(3.0).index_select(0, engine.tensor([9])).tolist_async())
