"""The engine side of benchmarks/bench_browser.py, run inside the console page (Pyodide).

bench_browser.py sends this file's text through the page's `window.runPython`, then calls

    setup(name, config_json)      the model, optimizer and batches of one configuration
    run(name, start, count)       -> JSON {"ms", "record_ms", "losses", "stats"}
    dispose(name)

("stats": the device's dispatch, submit and allocation counters summed over the steps.)

One step is bench_mlp.py's: zero_grad, forward, backward, optimizer step and `loss.item()`,
which submits the step's queued GPU work and waits for it (through JSPI: runPython calls
Python with `callPromising`). Each step is timed here with the page's `performance.now()`;
`record_ms` is the part before `loss.item()` (Python and the JS calls that record the
dispatches), the rest is the submit, the GPU work and the readback.
"""

import base64
import json

import js

import engine
import engine.nn.functional as F
from engine import nn, optim

_runs = {}


def _tensor(text, shape, dtype=engine.float32):
    return engine.frombuffer(bytearray(base64.b64decode(text)), dtype=dtype).reshape(shape)


def setup(name, config_json):
    config = json.loads(config_json)
    inputs, hidden, classes = config["inputs"], config["hidden"], config["classes"]
    batch, pool = config["batch"], config["pool"]
    model = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, classes))
    weights = config["weights"]
    model.load_state_dict(
        {
            "0.weight": _tensor(weights["w1"], (hidden, inputs)),
            "0.bias": _tensor(weights["b1"], (hidden,)),
            "2.weight": _tensor(weights["w2"], (classes, hidden)),
            "2.bias": _tensor(weights["b2"], (classes,)),
        }
    )
    if config["optimizer"] == "SGD":
        optimizer = optim.SGD(model.parameters(), lr=config["lr"], momentum=config["momentum"])
    else:
        optimizer = optim.Adam(model.parameters(), lr=config["lr"])
    images = _tensor(config["images"], (pool, batch, inputs))
    labels = _tensor(config["labels"], (pool, batch), dtype=engine.int64)
    batches = [(images[i].clone(), labels[i].clone()) for i in range(pool)]  # as bench_mlp.py
    _runs[name] = (model, optimizer, batches)


def run(name, start, count):
    model, optimizer, batches = _runs[name]
    stats = engine._get_device().stats
    before = dict(stats)
    ms, record_ms, losses = [], [], []
    now = js.performance.now
    for i in range(start, start + count):
        images, labels = batches[i % len(batches)]
        started = now()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        recorded = now()
        losses.append(loss.item())
        ms.append(now() - started)
        record_ms.append(recorded - started)
    counts = {key: stats[key] - before[key] for key in stats}
    return json.dumps({"ms": ms, "record_ms": record_ms, "losses": losses, "stats": counts})


def dispose(name):
    del _runs[name]
