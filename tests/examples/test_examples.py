"""Smoke tests: the example scripts and the benchmark run end to end and print sane results.

Each script runs as a subprocess, as a user would run it, with settings small enough to
keep the whole file to a few seconds on lavapipe.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parents[2]


def run_script(path, *args, timeout=120):
    """Run the script `path` (relative to the repository root); its stdout."""
    result = subprocess.run(
        [sys.executable, str(ROOT / path), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{path} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_train_digits_learns_in_one_epoch(tmp_path):
    saved = tmp_path / "digits.safetensors"
    output = run_script("examples/train_digits.py", "--epochs", 1, "--save", saved)
    assert output.startswith("adapter: ")
    # Not a terminal: one line per epoch, no carriage returns.
    assert "\r" not in output
    epoch_lines = [line for line in output.splitlines() if line.startswith("epoch")]
    assert len(epoch_lines) == 1
    assert "steps/s" in epoch_lines[0]
    accuracy = float(re.search(r"final test accuracy ([\d.]+)%", output).group(1))
    assert accuracy > 50, output
    state = engine.load(saved)
    assert {name: tuple(t.shape) for name, t in state.items()} == {
        "0.weight": (128, 64),
        "0.bias": (128,),
        "2.weight": (10, 128),
        "2.bias": (10,),
    }


def test_save_load_round_trips_through_pytorch():
    output = run_script("examples/save_load.py")
    assert "same predictions: True" in output
    assert "identical logits: True" in output


def test_bench_mlp_writes_json(tmp_path):
    report = tmp_path / "bench.json"
    output = run_script("benchmarks/bench_mlp.py", "--steps", 3, "--warmup", 1, "--json", report)
    assert "torch.set_num_threads(2)" in output
    result = json.loads(report.read_text())
    assert result["torch_threads"] == 2
    configs = {(row["inputs"], row["optimizer"]) for row in result["results"]}
    assert configs == {(784, "SGD"), (784, "Adam"), (64, "SGD"), (64, "Adam")}
    for row in result["results"]:
        assert row["engine_ms"] > 0 and row["torch_ms"] > 0
        assert row["ratio"] == row["engine_ms"] / row["torch_ms"]
        assert row["dispatches_per_step"] > 0
        # loss.item() every step: at least one submit per step.
        assert row["submits_per_step"] >= 1
