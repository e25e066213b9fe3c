"""Time one MLP training step in Chromium: the engine in the page against TF.js's WebGPU backend.

The same configurations as bench_mlp.py (IN-128-10 with ReLU and cross-entropy, IN = 784 and
64, batch 64, SGD with momentum and Adam) train in one headless Chromium with WebGPU on
SwiftShader (the flags of tests/browser/conftest.py), on two pages side by side:

- the engine: the console page of the real server (`python -m server` on 127.0.0.1), Pyodide
  and the engine's wheel, driven through `window.runPython` (benchmarks/browser/engine_bench.py);
- TF.js: `@tensorflow/tfjs` + `@tensorflow/tfjs-backend-webgpu` from node_modules (`npm ci`,
  exact versions in package.json), served with benchmarks/browser/ by a small static server
  that this script starts; the backend must be 'webgpu' or the script stops.

Both start from the same initial weights and the same 8 batches (bench_mlp.py's, sent from
here), so their losses agree step by step, and a step ends with the loss read back
(`loss.item()`, `await loss.data()`): each step waits for the GPU. After `--warmup` untimed
steps, steps are timed one by one inside the page with `performance.now()` (no Playwright
round trip counts), the frameworks taking turns `--chunk` steps at a time; the median is
reported, and the ratio engine / TF.js. Both pages count their WebGPU calls
(browser/gpu_counters.js), printed per step: dispatches, submits, readbacks, and the
pipelines, bind groups and buffers created in the loop.

    make bench-browser
    python benchmarks/bench_browser.py --steps 50 --warmup 10 --json results.json
"""

import argparse
import ast
import base64
import http.server
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from bench_mlp import CLASSES, HIDDEN, synthetic_batches
from bench_server import free_port, start_server, stop_server

ROOT = Path(__file__).resolve().parent.parent
PAGES = Path(__file__).resolve().parent / "browser"
TFJS = ROOT / "node_modules" / "@tensorflow"
# What the TF.js page may load: these files and nothing else (no CDN, no directory listing).
TFJS_FILES = {
    "/": (PAGES / "tfjs.html", "text/html"),
    "/bench_tfjs.js": (PAGES / "bench_tfjs.js", "text/javascript"),
    "/tfjs/tf.min.js": (TFJS / "tfjs" / "dist" / "tf.min.js", "text/javascript"),
    "/tfjs/tf-backend-webgpu.min.js": (
        TFJS / "tfjs-backend-webgpu" / "dist" / "tf-backend-webgpu.min.js",
        "text/javascript",
    ),
}
CHROMIUM = Path("/usr/bin/chromium")
# As in tests/browser/conftest.py: offline, no sandbox (root in CI), WebGPU on SwiftShader.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-unsafe-webgpu",
    "--enable-unsafe-swiftshader",
    "--use-webgpu-adapter=swiftshader",
]
BOOT_TIMEOUT_MS = 180_000
# bench_mlp.py's make_optimizer: SGD(lr=0.01, momentum=0.9), Adam(lr=1e-3)
OPTIMIZERS = {"SGD": {"lr": 0.01, "momentum": 0.9}, "Adam": {"lr": 1e-3}}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=50, help="timed steps per config")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--inputs",
        type=int,
        nargs="+",
        default=[784, 64],
        help="input sizes: 784 (MNIST 28x28) and 64 (digits 8x8)",
    )
    parser.add_argument(
        "--optimizers", nargs="+", default=list(OPTIMIZERS), choices=list(OPTIMIZERS)
    )
    parser.add_argument(
        "--chunk", type=int, default=5, help="steps timed in a row before the other framework"
    )
    parser.add_argument("--chromium", default=str(CHROMIUM), help="the Chromium executable")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.chunk < 1 or args.warmup < 0:
        parser.error("--steps and --chunk must be at least 1, --warmup at least 0")
    return args


# --- the data both pages get ---------------------------------------------------------------


def initial_weights(inputs, seed=1):
    """PyTorch's default Linear init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as [out, in]."""
    rng = np.random.default_rng(seed)

    def uniform(fan_in, *shape):
        bound = 1 / math.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    return {
        "w1": uniform(inputs, HIDDEN, inputs),
        "b1": uniform(inputs, HIDDEN),
        "w2": uniform(HIDDEN, CLASSES, HIDDEN),
        "b2": uniform(HIDDEN, CLASSES),
    }


def _b64(array, dtype):
    little_endian = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
    return base64.b64encode(little_endian.tobytes()).decode()


def page_config(inputs, batch_size, optimizer, batches, weights, kernel_in_out):
    """One configuration as JSON for both pages; TF.js wants its kernels [in, out]."""
    images = np.stack([x for x, _ in batches])
    labels = np.stack([y for _, y in batches])
    layout = (lambda w: w.T) if kernel_in_out else (lambda w: w)
    return {
        "inputs": inputs,
        "hidden": HIDDEN,
        "classes": CLASSES,
        "batch": batch_size,
        "pool": len(batches),
        "optimizer": optimizer,
        **OPTIMIZERS[optimizer],
        "images": _b64(images, np.float32),
        "labels": _b64(labels, np.int32),
        "weights": {
            "w1": _b64(layout(weights["w1"]), np.float32),
            "b1": _b64(weights["b1"], np.float32),
            "w2": _b64(layout(weights["w2"]), np.float32),
            "b2": _b64(weights["b2"], np.float32),
        },
    }


# --- the TF.js page's static server ----------------------------------------------------------


class _TfjsFiles(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        entry = TFJS_FILES.get(self.path.split("?")[0])
        if entry is None:
            self.send_error(404)
            return
        path, media_type = entry
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def start_static_server():
    """TFJS_FILES on 127.0.0.1 (a secure context, so WebGPU is available), from a thread."""
    missing = [str(path) for path, _ in TFJS_FILES.values() if not path.is_file()]
    if missing:
        raise SystemExit(f"missing {', '.join(missing)}: run `npm ci` (or `make node`) first")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TfjsFiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


# --- the two pages ---------------------------------------------------------------------------


class BenchPage:
    """A page in its own browser context, with its WebGPU calls counted (gpu_counters.js)
    and its uncaught exceptions and console errors collected."""

    def __init__(self, browser, url):
        self.context = browser.new_context()
        self.context.add_init_script(path=str(PAGES / "gpu_counters.js"))
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        self.page.on("console", self._console)
        self.page.goto(url)

    def _console(self, message):
        if message.type == "error":
            self.errors.append(f"console.error: {message.text}")

    def gpu_calls(self):
        return self.page.evaluate("() => ({...window.gpuCallCounts})")

    def counted_run(self, name, start, count):
        """`run`, plus the WebGPU calls it made (counted outside the timed loop)."""
        before = self.gpu_calls()
        run = self.run(name, start, count)
        after = self.gpu_calls()
        run["gpu_calls"] = {call: after[call] - before[call] for call in after}
        return run


class EnginePage(BenchPage):
    """The console page: Python run through `window.runPython`, values back as JSON."""

    def __init__(self, browser, url):
        super().__init__(browser, url + "/console")
        self.page.wait_for_function(
            "() => typeof window.runPython === 'function' || "
            "document.querySelector('[data-testid=status]').textContent === 'error'",
            timeout=BOOT_TIMEOUT_MS,
        )
        if self.page.evaluate("typeof window.runPython") != "function":
            raise RuntimeError(f"the console page did not boot: {self.errors}")
        self.python((PAGES / "engine_bench.py").read_text())
        self.adapter = self.python("json.dumps(engine.device_info())")

    def python(self, code):
        """Run `code` in the page; the value of its last expression, a JSON string, decoded."""
        run = self.page.evaluate("(code) => window.runPython(code)", code)
        if run["error"]:
            raise RuntimeError(f"Python in the page failed:\n{run['error']}")
        return None if run["result"] is None else json.loads(ast.literal_eval(run["result"]))

    def setup(self, name, config):
        self.python(f"setup({name!r}, {json.dumps(config)!r})")

    def run(self, name, start, count):
        return self.python(f"run({name!r}, {start}, {count})")

    def dispose(self, name):
        self.python(f"dispose({name!r})")


class TfjsPage(BenchPage):
    """The TF.js page: `window.benchTfjs` (benchmarks/browser/bench_tfjs.js)."""

    def __init__(self, browser, url):
        super().__init__(browser, url)
        self.info = self.page.evaluate("() => benchTfjs.init()")
        if self.info["backend"] != "webgpu":  # init() throws already; never time another backend
            raise RuntimeError(f"TF.js runs on {self.info['backend']!r}, not 'webgpu'")

    def setup(self, name, config):
        self.page.evaluate("([name, config]) => benchTfjs.setup(name, config)", [name, config])

    def run(self, name, start, count):
        return self.page.evaluate(
            "([name, start, count]) => benchTfjs.run(name, start, count)", [name, start, count]
        )

    def dispose(self, name):
        self.page.evaluate("(name) => benchTfjs.dispose(name)", name)


# --- timing ----------------------------------------------------------------------------------


def time_config(pages, name, warmup, steps, chunk):
    """Warm each page's step up, then time `steps` of each, `chunk` at a time, alternating.

    Alternating means that another process busy on the machine for a while slows both
    frameworks alike instead of skewing the ratio. Returns, per framework, the timed
    milliseconds, every loss (warm-up included) and the WebGPU calls of the timed steps.
    """
    results = {}
    for framework, page in pages.items():
        first = page.run(name, 0, warmup) if warmup else {"losses": []}
        results[framework] = {"ms": [], "record_ms": [], "losses": first["losses"], "runs": []}
    for chunk_start in range(0, steps, chunk):
        count = min(chunk, steps - chunk_start)
        for framework, page in pages.items():
            run = page.counted_run(name, warmup + chunk_start, count)
            result = results[framework]
            result["ms"] += run["ms"]
            result["record_ms"] += run.get("record_ms", [])
            result["losses"] += run["losses"]
            result["runs"].append(run)
    for result in results.values():
        result["gpu_calls_per_step"] = _per_step(result["runs"], "gpu_calls", steps)
    results["engine"]["stats_per_step"] = _per_step(results["engine"]["runs"], "stats", steps)
    return results


def _per_step(runs, key, steps):
    """The counters `run[key]` of every timed run, summed, per timed step."""
    totals = {}
    for run in runs:
        for name, n in run[key].items():
            totals[name] = totals.get(name, 0) + n
    return {name: n / steps for name, n in totals.items()}


def check_losses(name, results):
    """Finite losses on both sides, and the same first loss (same weights, same batch)."""
    for framework, result in results.items():
        bad = [x for x in result["losses"] if not math.isfinite(x)]
        if bad:
            raise RuntimeError(f"{name}: {framework} gave non-finite losses {bad[:3]}")
    first = {framework: result["losses"][0] for framework, result in results.items()}
    if abs(first["engine"] - first["tfjs"]) > 1e-3 * abs(first["tfjs"]):
        print(f"WARNING {name}: first-step losses differ: {first}", file=sys.stderr)


def summarize(name, inputs, batch_size, optimizer, results):
    engine, tfjs = results["engine"], results["tfjs"]
    engine_ms, tfjs_ms = statistics.median(engine["ms"]), statistics.median(tfjs["ms"])
    return {
        "config": name,
        "inputs": inputs,
        "batch_size": batch_size,
        "optimizer": optimizer,
        "engine_ms": engine_ms,
        "tfjs_ms": tfjs_ms,
        "ratio": engine_ms / tfjs_ms,
        "engine_record_ms": statistics.median(engine["record_ms"]),
        "engine_stats_per_step": engine["stats_per_step"],
        "engine_gpu_calls_per_step": engine["gpu_calls_per_step"],
        "tfjs_gpu_calls_per_step": tfjs["gpu_calls_per_step"],
        "tfjs_tensors_after_each_chunk": [run["tensors"] for run in tfjs["runs"]],
        "engine_step_ms": engine["ms"],
        "tfjs_step_ms": tfjs["ms"],
        "engine_losses": engine["losses"],
        "tfjs_losses": tfjs["losses"],
    }


# --- output ----------------------------------------------------------------------------------

# WebGPU calls shown per step: column title -> the wrapped method (gpu_counters.js)
CALL_COLUMNS = {
    "dispatch": "dispatchWorkgroups",
    "submit": "submit",
    "write": "writeBuffer",
    "mapAsync": "mapAsync",
    "bindGroup": "createBindGroup",
    "buffer": "createBuffer",
    "pipeline": "createComputePipeline",
}


def print_table(rows):
    header = (
        f"{'config':<22} {'engine ms':>10} {'tfjs ms':>9} {'ratio':>7}   "
        f"{'engine: record ms':>17} {'rest ms':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        rest = row["engine_ms"] - row["engine_record_ms"]
        print(
            f"{row['config']:<22} {row['engine_ms']:>10.2f} {row['tfjs_ms']:>9.2f} "
            f"{row['ratio']:>6.2f}x   {row['engine_record_ms']:>17.2f} {rest:>8.2f}"
        )


def print_calls(rows):
    header = f"{'WebGPU calls per step':<29}" + "".join(f"{c:>10}" for c in CALL_COLUMNS)
    print(header)
    print("-" * len(header))
    for row in rows:
        for framework in ("engine", "tfjs"):
            calls = row[f"{framework}_gpu_calls_per_step"]
            label = f"{row['config']} {framework}"
            cells = "".join(f"{calls.get(m, 0):>10.1f}" for m in CALL_COLUMNS.values())
            print(f"{label:<29}{cells}")


def print_losses(rows):
    print("loss from the same initial weights and batches: first step / last timed step")
    for row in rows:
        engine, tfjs = row["engine_losses"], row["tfjs_losses"]
        print(
            f"{row['config']:<22} engine {engine[0]:.4f} / {engine[-1]:.4f}   "
            f"tfjs {tfjs[0]:.4f} / {tfjs[-1]:.4f}"
        )


# --- the run ---------------------------------------------------------------------------------


def run_benchmark(args):
    """Start the servers and Chromium, time every configuration; (facts, rows)."""
    from playwright.sync_api import sync_playwright

    static_server, tfjs_url = start_static_server()
    data_dir = tempfile.TemporaryDirectory(prefix="bench-browser-")
    rows = []
    with open(os.path.join(data_dir.name, "server.log"), "w") as log:
        port = free_port()
        server = start_server(Path(data_dir.name), port, log)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=args.chromium, args=CHROMIUM_FLAGS
                )
                started = time.perf_counter()
                engine_page = EnginePage(browser, f"http://127.0.0.1:{port}")
                boot_s = time.perf_counter() - started
                tfjs_page = TfjsPage(browser, tfjs_url)
                adapter = engine_page.adapter
                facts = {
                    "chromium": browser.version,
                    "engine_adapter": " | ".join(
                        filter(None, (adapter[k] for k in ("vendor", "architecture", "device")))
                    ),
                    "engine_boot_s": boot_s,
                    "tfjs": tfjs_page.info,
                    "load_average_before": os.getloadavg()[0],
                }
                print_header(args, facts)
                pages = {"engine": engine_page, "tfjs": tfjs_page}
                for inputs in args.inputs:
                    batches = synthetic_batches(inputs, args.batch_size)
                    weights = initial_weights(inputs)
                    for optimizer in args.optimizers:
                        name = f"{inputs}-{HIDDEN}-{CLASSES} b{args.batch_size} {optimizer}"
                        for framework, page in pages.items():
                            config = page_config(
                                inputs, args.batch_size, optimizer, batches, weights,
                                kernel_in_out=framework == "tfjs",
                            )  # fmt: skip
                            page.setup(name, config)
                        results = time_config(pages, name, args.warmup, args.steps, args.chunk)
                        for page in pages.values():
                            page.dispose(name)
                        check_losses(name, results)
                        rows.append(summarize(name, inputs, args.batch_size, optimizer, results))
                facts["page_errors"] = engine_page.errors + tfjs_page.errors
                browser.close()
        finally:
            stop_server(server)
            static_server.shutdown()
            data_dir.cleanup()
    return facts, rows


def print_header(args, facts):
    tfjs = facts["tfjs"]
    print(f"Chromium {facts['chromium']}, WebGPU on SwiftShader:")
    print(f"  engine (Pyodide, console page): adapter {facts['engine_adapter']}, "
          f"page booted in {facts['engine_boot_s']:.1f} s")  # fmt: skip
    print(f"  TF.js {tfjs['version']}: tf.getBackend() = {tfjs['backend']!r}, "
          f"adapter {tfjs['adapter']}")  # fmt: skip
    print(
        f"CPU: {os.cpu_count()} cores, load average {facts['load_average_before']:.2f} before "
        "the run (SwiftShader runs the shaders on these cores)"
    )
    print(
        f"batch {args.batch_size}, {args.warmup} warm-up + {args.steps} timed steps per config "
        f"and framework, {args.chunk} at a time in turn; median ms per step, timed in the "
        "page, the loss read back every step\n"
    )


def main(argv=None):
    args = parse_args(argv)
    if not Path(args.chromium).exists():
        raise SystemExit(f"{args.chromium} is missing (`make browser` installs Debian's chromium)")
    facts, rows = run_benchmark(args)

    print_table(rows)
    print(
        "\nratio = engine ms / tfjs ms (lower is better for the engine). The engine's step "
        "split: record = zero_grad, forward, backward and step in Python (the dispatches "
        "recorded, nothing waited for); rest = loss.item(): submit, GPU work, readback.\n"
    )
    print_calls(rows)
    print()
    print_losses(rows)
    if facts["page_errors"]:
        print("\npage errors:\n  " + "\n  ".join(facts["page_errors"]), file=sys.stderr)

    if args.json:
        result = {
            **facts,
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "steps": args.steps,
            "warmup": args.warmup,
            "chunk": args.chunk,
            "results": rows,
        }
        with open(args.json, "w") as file:
            json.dump(result, file, indent=2)
        print(f"wrote {args.json}")
    return rows


if __name__ == "__main__":
    main()
