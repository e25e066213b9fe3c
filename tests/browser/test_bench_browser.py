"""benchmarks/bench_browser.py, cut to a handful of steps: both pages train and it reports.

The engine (console page, Pyodide) and TF.js (WebGPU backend, from node_modules) train the
64-128-10 MLP for nine steps each in Debian's Chromium on SwiftShader. Nine steps cycle
through the eight batches once, so step 8 sees step 0's batch again and its loss must be
lower; both frameworks start from the same weights, so their losses must agree.
"""

import importlib
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TFJS = ROOT / "node_modules" / "@tensorflow"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(180),
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(),
        reason="/usr/bin/chromium is missing (`make browser` installs Debian's chromium)",
    ),
    pytest.mark.skipif(
        not (TFJS / "tfjs-backend-webgpu").is_dir(),
        reason="node_modules/@tensorflow is missing (`make node` installs it)",
    ),
]


@pytest.fixture
def bench_browser(monkeypatch):
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    return importlib.import_module("bench_browser")


def test_both_frameworks_train_and_the_report_is_printed(bench_browser, capsys):
    rows = bench_browser.main(["--inputs", "64", "--warmup", "3", "--steps", "6", "--chunk", "3"])
    out = capsys.readouterr().out

    assert "tf.getBackend() = 'webgpu'" in out
    assert [row["config"] for row in rows] == ["64-128-10 b64 SGD", "64-128-10 b64 Adam"]
    for row in rows:
        assert row["engine_ms"] > 0 and row["tfjs_ms"] > 0
        assert row["ratio"] == pytest.approx(row["engine_ms"] / row["tfjs_ms"])
        assert 0 < row["engine_record_ms"] < row["engine_ms"]
        assert len(row["engine_step_ms"]) == len(row["tfjs_step_ms"]) == 6
        for losses in (row["engine_losses"], row["tfjs_losses"]):
            assert len(losses) == 9 and all(math.isfinite(x) for x in losses)
            assert losses[8] < losses[0]  # the same batch, one pass later
        assert row["engine_losses"] == pytest.approx(row["tfjs_losses"], rel=1e-3)
        # every timed step waits for the GPU: one readback each, on both sides
        for framework in ("engine", "tfjs"):
            calls = row[f"{framework}_gpu_calls_per_step"]
            assert calls["mapAsync"] == 1 and calls["dispatchWorkgroups"] > 0
            assert calls["createComputePipeline"] == 0
        assert row["engine_gpu_calls_per_step"]["dispatchWorkgroups"] == 16
        # the ratio's line of the table
        assert f"{row['ratio']:.2f}x" in out and row["config"] in out
