"""Load-test the model exchange with wrk on loopback: requests/s and p99 latency.

The script starts the real server (`python -m server`) on 127.0.0.1 on a free port with a
fresh data directory, creates a token, pushes MODELS small models (a few KB each, built with
`engine.serialization.dumps`) and one of about 1 MB, then points wrk at three URLs in turn:

    list             GET /api/models?limit=50
    download small   GET /api/models/<owner>/<name>/versions/1/file   (a few KB)
    download 1 MB    GET /api/models/<owner>/<name>/versions/1/file   (about 1 MB)

Each run is `wrk -t2 -c16 -d10s --latency` after a short untimed warm-up; requests per second
and the latency percentiles are parsed from wrk's `--latency` report. wrk and the server run
on the same machine and share its cores, so the numbers are a floor, not a capacity.

    make bench-server
    python benchmarks/bench_server.py --duration 30 --json results.json
"""

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import engine
from engine import nn
from engine.serialization import dumps

ROOT = Path(__file__).resolve().parent.parent
OWNER = "bench"
MODELS = 20
# A 512x512 float32 weight plus its bias: 1 MiB and 2 KiB.
BIG_FEATURES = 512
SERVER_START_TIMEOUT = 60.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per URL")
    parser.add_argument("--warmup", type=int, default=2, help="untimed seconds of wrk first")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--connections", type=int, default=16, help="wrk -c")
    parser.add_argument("--models", type=int, default=MODELS, help="small models to push")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- the models


def small_model_file(index):
    """A 16-32-10 MLP (874 float32, about 3.5 KB) with the metadata a trained model carries."""
    engine.manual_seed(index)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 10))
    metadata = {
        "architecture": "Sequential(Linear(16, 32), ReLU(), Linear(32, 10))",
        "metrics": json.dumps({"accuracy": round(0.9 + index / 1000, 4), "loss": 0.25}),
        "framework": f"engine {getattr(engine, '__version__', 'dev')}",
    }
    return dumps(model.state_dict(), metadata)


def big_model_file():
    """One Linear(512, 512): about 1 MB."""
    engine.manual_seed(0)
    layer = nn.Linear(BIG_FEATURES, BIG_FEATURES)
    return dumps(layer.state_dict(), {"architecture": "Linear(512, 512)"})


# ----------------------------------------------------------------------------- the server


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(*args):
    return [sys.executable, "-m", "server", *args]


def server_env():
    # `python -m server` from the repository root works whether or not the package is installed.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def create_token(data_dir):
    """A token for OWNER: the last word `python -m server token create` prints."""
    result = subprocess.run(
        server_command("token", "create", OWNER, "--data-dir", str(data_dir)),
        cwd=ROOT,
        env=server_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not result.stdout.split():
        raise RuntimeError(f"token create failed ({result.returncode}):\n{result.stderr}")
    return result.stdout.split()[-1]


def start_server(data_dir, port, log):
    process = subprocess.Popen(
        server_command("--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)),
        cwd=ROOT,
        env=server_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1) as r:
                if r.status == 200:
                    return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    stop_server(process)
    raise RuntimeError(f"the server did not answer /api/health within {SERVER_START_TIMEOUT} s")


def stop_server(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def push(base, name, data, token):
    request = urllib.request.Request(
        f"{base}/api/models/{OWNER}/{name}/versions",
        data=data,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status != 201:
                raise RuntimeError(f"push {name}: HTTP {response.status}, expected 201")
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"push {name}: HTTP {error.code}: {error.read()[:500]!r}") from None


def fetch_length(url):
    """GET `url` once (it must answer 200) and return the length of its body."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return len(response.read())


# ----------------------------------------------------------------------------- wrk


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _milliseconds(text):
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"cannot read the duration {text!r} in wrk's output")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output):
    """Requests/s, latency percentiles (ms), request count and errors from `wrk --latency`."""
    result = {"non_2xx_3xx": 0, "socket_errors": 0}
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if not rate:
        raise ValueError(f"no 'Requests/sec' in wrk's output:\n{output}")
    result["requests_per_s"] = float(rate.group(1))
    for percent in ("50", "75", "90", "99"):
        match = re.search(rf"^\s+{percent}%\s+(\S+)", output, re.M)
        if not match:
            raise ValueError(f"no {percent}% latency in wrk's output (was --latency given?)")
        result[f"p{percent}_ms"] = _milliseconds(match.group(1))
    total = re.search(r"^\s+(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read", output, re.M)
    if total:
        result["requests"] = int(total.group(1))
    transfer = re.search(r"^Transfer/sec:\s+(\S+)", output, re.M)
    if transfer:
        result["transfer_per_s"] = transfer.group(1)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_2xx:
        result["non_2xx_3xx"] = int(non_2xx.group(1))
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if errors:
        result["socket_errors"] = sum(int(n) for n in errors.groups())
    return result


def run_wrk(url, duration, threads, connections):
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def wrk_version():
    # `wrk -v` prints its version line, then its usage, and exits with status 1.
    result = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (result.stdout + result.stderr).splitlines()[0].strip()


# ----------------------------------------------------------------------------- main


def print_table(rows):
    header = (
        f"{'target':<16}{'body':>10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'transfer/s':>12}{'errors':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        errors = row["non_2xx_3xx"] + row["socket_errors"]
        print(
            f"{row['target']:<16}{format_bytes(row['body_bytes']):>10}"
            f"{row['requests_per_s']:>10.0f}{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}"
            f"{row.get('transfer_per_s', '?'):>12}{errors:>8}"
        )


def format_bytes(size):
    if size >= 1 << 20:
        return f"{size / (1 << 20):.1f} MiB"
    if size >= 1 << 10:
        return f"{size / (1 << 10):.1f} KiB"
    return f"{size} B"


def main(argv=None):
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `apt-get install -y wrk` (make bench-server does it)")

    small_files = [small_model_file(i) for i in range(args.models)]
    big_file = big_model_file()

    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        token = create_token(data_dir)
        log_path = Path(tmp) / "server.log"
        with open(log_path, "wb") as log:
            process = start_server(data_dir, port, log)
            try:
                for i, data in enumerate(small_files):
                    push(base, f"mlp-{i:02d}", data, token)
                push(base, "linear-1mb", big_file, token)
                targets = [
                    ("list", f"{base}/api/models?limit=50"),
                    ("download small", f"{base}/api/models/{OWNER}/mlp-00/versions/1/file"),
                    ("download 1 MB", f"{base}/api/models/{OWNER}/linear-1mb/versions/1/file"),
                ]
                load_before = os.getloadavg()
                print(
                    f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency, "
                    f"{os.cpu_count()} cores (shared by wrk and the server), load average "
                    f"{' '.join(f'{x:.2f}' for x in load_before)}"
                )
                rows = []
                for target, url in targets:
                    body_bytes = fetch_length(url)
                    if args.warmup > 0:
                        run_wrk(url, args.warmup, args.threads, args.connections)
                    output = run_wrk(url, args.duration, args.threads, args.connections)
                    rows.append(
                        {"target": target, "url": url, "body_bytes": body_bytes} | parse_wrk(output)
                    )
            except Exception:
                log.flush()
                sys.stderr.write(f"--- server log ---\n{log_path.read_text(errors='replace')}\n")
                raise
            finally:
                stop_server(process)

    print()
    print_table(rows)
    failed = [row["target"] for row in rows if row["non_2xx_3xx"] or row["socket_errors"]]
    if failed:
        print(f"\nWARNING: errors during {', '.join(failed)}: those numbers are not valid")

    if args.json:
        report = {
            "machine": {
                "cpu_count": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "wrk": wrk_version(),
                "loadavg_before": load_before,
            },
            "wrk": {
                "threads": args.threads,
                "connections": args.connections,
                "duration_s": args.duration,
                "warmup_s": args.warmup,
            },
            "models": {"small": args.models, "small_bytes": len(small_files[0]), "big": 1},
            "results": rows,
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
