"""Time one MLP training step with the engine and with PyTorch on the CPU, in one run.

Each configuration (input size x optimizer) trains the same MLP, IN-128-10 with ReLU and
cross-entropy, on the same synthetic batches in both frameworks. A step is what a real
training loop does: zero_grad, forward, backward, optimizer step, and `loss.item()`, which
makes the engine submit its queued GPU work and wait for it. After `--warmup` untimed steps
(pipelines compile, buffer pools fill), `--steps` steps are timed one by one and the median
is reported, with the engine's dispatches and queue submits per step. The two frameworks
take turns, CHUNK steps at a time, so that other work on the machine slows both alike.

    make bench
    python benchmarks/bench_mlp.py --steps 200 --json results.json
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

import engine

HIDDEN = 128
CLASSES = 10
# Distinct batches cycled through, so that no framework can reuse one input's results.
POOL = 8
# Steps timed in a row for one framework before switching to the other.
CHUNK = 10


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="timed steps per config")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--inputs",
        type=int,
        nargs="+",
        default=[784, 64],
        help="input sizes: 784 (MNIST 28x28) and 64 (digits 8x8)",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--no-torch", action="store_true", help="time the engine only")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    return parser.parse_args(argv)


def synthetic_batches(inputs, batch_size, seed=0):
    """POOL batches of pixels in [0, 1) and labels 0..9, as NumPy arrays."""
    rng = np.random.default_rng(seed)
    images = rng.random((POOL, batch_size, inputs), dtype=np.float32)
    labels = rng.integers(0, CLASSES, (POOL, batch_size)).astype(np.int64)
    return list(zip(images, labels))


def engine_step(inputs, optimizer_name, batches):
    """One engine training step on batch `i` (cycling through `batches`), returning the loss."""
    import engine.nn.functional as F
    from engine import nn, optim

    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(inputs, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))
    optimizer = make_optimizer(optim, optimizer_name, model.parameters())
    data = [(engine.from_numpy(x), engine.from_numpy(y)) for x, y in batches]

    def step(i):
        images, labels = data[i % len(data)]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def torch_step(torch, inputs, optimizer_name, batches):
    """The same training step in PyTorch, line for line."""
    import torch.nn.functional as F
    from torch import nn, optim

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(inputs, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))
    optimizer = make_optimizer(optim, optimizer_name, model.parameters())
    data = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]

    def step(i):
        images, labels = data[i % len(data)]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def time_interleaved(steps_by_name, warmup, steps):
    """Warm each step function up, then time `steps` calls of each, in alternating chunks.

    Alternating (CHUNK steps of one framework, then CHUNK of the next) means that another
    process stealing the CPU for a while slows both down alike instead of skewing the ratio.
    Returns {name: [milliseconds per step]}.
    """
    for step in steps_by_name.values():
        for i in range(warmup):
            step(i)
    durations = {name: [] for name in steps_by_name}
    for chunk_start in range(0, steps, CHUNK):
        for name, step in steps_by_name.items():
            for i in range(chunk_start, min(chunk_start + CHUNK, steps)):
                start = time.perf_counter()
                step(warmup + i)
                durations[name].append((time.perf_counter() - start) * 1e3)
    return durations


def engine_counts(step, steps=5):
    """The engine's GPU dispatches and queue submits per call of `step`."""
    stats = engine._get_device().stats
    dispatches, submits = stats["dispatches"], stats["submits"]
    for i in range(steps):
        step(i)
    return (stats["dispatches"] - dispatches) / steps, (stats["submits"] - submits) / steps


def make_optimizer(optim, name, parameters):
    """The same optimizer from either framework's `optim` module."""
    if name == "SGD":
        return optim.SGD(parameters, lr=0.01, momentum=0.9)
    return optim.Adam(parameters, lr=1e-3)


def import_torch(threads):
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: timing the engine only", file=sys.stderr)
        return None
    torch.set_num_threads(threads)
    return torch


def describe_adapter():
    info = engine.device_info()
    return f"{info['device']} | {info['description']} | {info['backend']} ({info['adapter_type']})"


def print_table(rows):
    header = (
        f"{'config':<26} {'engine ms':>10} {'torch ms':>9} {'ratio':>7} "
        f"{'dispatches':>11} {'submits':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        torch_ms = "-" if row["torch_ms"] is None else f"{row['torch_ms']:.3f}"
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.1f}x"
        print(
            f"{row['config']:<26} {row['engine_ms']:>10.2f} {torch_ms:>9} {ratio:>7} "
            f"{row['dispatches_per_step']:>11.1f} {row['submits_per_step']:>8.2f}"
        )


def main(argv=None):
    args = parse_args(argv)
    torch = None if args.no_torch else import_torch(args.threads)
    adapter = describe_adapter()
    print(f"engine adapter: {adapter}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if load is not None:
        print(
            f"CPU: {os.cpu_count()} cores, load average {load:.2f} before the run "
            "(other busy processes slow both frameworks, PyTorch's threads the most)"
        )
    if torch is not None:
        print(f"PyTorch {torch.__version__} on the CPU, torch.set_num_threads({args.threads})")
    print(
        f"batch {args.batch_size}, {args.warmup} warm-up + {args.steps} timed steps per config; "
        "median ms per step (zero_grad, forward, backward, step, loss.item())\n"
    )

    rows = []
    for inputs in args.inputs:
        batches = synthetic_batches(inputs, args.batch_size)
        for optimizer_name in ("SGD", "Adam"):
            steps = {"engine": engine_step(inputs, optimizer_name, batches)}
            if torch is not None:
                steps["torch"] = torch_step(torch, inputs, optimizer_name, batches)
            durations = time_interleaved(steps, args.warmup, args.steps)
            dispatches, submits = engine_counts(steps["engine"])
            engine_ms = statistics.median(durations["engine"])
            torch_ms = statistics.median(durations["torch"]) if torch is not None else None
            rows.append(
                {
                    "config": f"{inputs}-{HIDDEN}-{CLASSES} b{args.batch_size} {optimizer_name}",
                    "inputs": inputs,
                    "batch_size": args.batch_size,
                    "optimizer": optimizer_name,
                    "engine_ms": engine_ms,
                    "torch_ms": torch_ms,
                    "ratio": None if torch_ms is None else engine_ms / torch_ms,
                    "dispatches_per_step": dispatches,
                    "submits_per_step": submits,
                }
            )
    print_table(rows)
    print("\nratio = engine ms / torch ms (lower is better for the engine)")

    if args.json:
        result = {
            "adapter": engine.device_info()["description"],
            "adapter_line": adapter,
            "torch": None if torch is None else torch.__version__,
            "torch_threads": None if torch is None else args.threads,
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "load_average_before": load,
            "steps": args.steps,
            "warmup": args.warmup,
            "results": rows,
        }
        with open(args.json, "w") as file:
            json.dump(result, file, indent=2)
        print(f"wrote {args.json}")
    return rows


if __name__ == "__main__":
    main()
