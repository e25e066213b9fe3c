"""The training demo's Python (/demos/train: web/train.html, web/static/train.js).

An MLP learns the engine's 8x8 digits on the page's GPU. The page imports this module,
calls `load_digits()`, then calls `train`, `predict`, `share`, `load_from_hub` and
`hub_models` through boot.js's `callPython`; every one is an `async def` that reads back
only through the awaitable twins (`item_async`, `tolist_async`, `engine.hub.*_async`), so
the demo works in browsers without JSPI too. Arguments and results cross to JavaScript as
JSON strings. `train` yields to the browser after every step (Stop, drawing and repainting
keep working) and reads the loss back only every READ_LOSS_EVERY steps (readbacks are
what costs).

The model in use, trained here or loaded from the hub, is `model`; window.runPython's code
sees it as `model` too (engine.web.runner's page namespace). Natively the same functions
run on the native backend (tests/engine/web/test_train.py).
"""

from __future__ import annotations

import asyncio
import json
import math
import time

import engine
import engine.hub as hub
import engine.nn as nn
import engine.nn.functional as F
from engine.datasets import Digits
from engine.web import runner

READ_LOSS_EVERY = 4  # steps between two loss readbacks
SETTINGS = ("hidden", "optimizer", "lr", "batch", "seed")  # of the config, kept as metadata
# Entries that push writes itself; a loaded model's other metadata travels on when shared.
ENGINE_KEYS = (hub.ARCHITECTURE_KEY, hub.VERSION_KEY, hub.FRAMEWORK_KEY)

# The digits as the model sees them (64 pixels a row), once load_digits() has run.
x_train = y_train = x_test = y_test = None
model = None  # the model in use: trained here or loaded from the hub
model_metadata = {}  # what Share sends with it


def load_digits():
    """Put the training and test digits on the GPU (once; the page calls it at start)."""
    global x_train, y_train, x_test, y_test
    if x_train is None:
        train_set, test_set = Digits(train=True), Digits(train=False)
        x_train, y_train = train_set.data.reshape(-1, 64), train_set.targets
        x_test, y_test = test_set.data.reshape(-1, 64), test_set.targets


def use_model(net, metadata):
    """Make `net` the model in use, with `metadata` for Share."""
    global model, model_metadata
    model, model_metadata = net, metadata
    runner.page_namespace["model"] = net  # window.runPython sees the model in use as `model`


def build(hidden, optimizer, lr):
    """A fresh 64 -> hidden -> 10 MLP and its optimizer ("sgd" with momentum, else Adam)."""
    net = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    if optimizer == "sgd":
        return net, engine.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    return net, engine.optim.Adam(net.parameters(), lr=lr)


async def accuracy(net):
    """The percentage of the test digits that `net` classifies right."""
    load_digits()
    with engine.no_grad():
        correct = (net(x_test).argmax(dim=1) == y_test).float().mean()
    return 100.0 * await correct.item_async()


async def train(config_json, hooks):
    """Train a new model with the page's settings (JSON: hidden, optimizer, lr, epochs,
    batch, seed) and make it the model in use from its first step on.

    `hooks.progress(json)` gets {"step", "total", "epoch", "rate"} (steps per second) with
    "loss" every READ_LOSS_EVERY steps and at the last, and "accuracy" (percent) after each
    epoch. Training stops after the step during which `hooks.stopRequested` became true.
    Returns JSON: {"stopped", "step"} (the steps done)."""
    load_digits()
    config = json.loads(config_json)
    engine.manual_seed(config["seed"])
    net, optimizer = build(config["hidden"], config["optimizer"], config["lr"])
    metadata = {"dataset": "digits-8x8", "trained_in": "browser", "epochs": 0, "steps": 0}
    use_model(net, {**metadata, **{key: config[key] for key in SETTINGS}})
    count = len(x_train)
    batch = config["batch"]
    per_epoch = math.ceil(count / batch)
    total = config["epochs"] * per_epoch
    step = 0
    started = time.perf_counter()
    for epoch in range(config["epochs"]):
        order = engine.randperm(count)
        for first in range(0, count, batch):
            chosen = order[first : first + batch]
            loss = F.cross_entropy(net(x_train[chosen]), y_train[chosen])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step % READ_LOSS_EVERY == 0 or step == total:
                value = await loss.item_async()
                rate = step / (time.perf_counter() - started)
                report = {"step": step, "total": total, "epoch": epoch + 1, "loss": value}
                hooks.progress(json.dumps({**report, "rate": rate}))
            else:
                await asyncio.sleep(0)  # let the page breathe: Stop, drawing, repaint
            if hooks.stopRequested:
                model_metadata["steps"] = step
                return json.dumps({"stopped": True, "step": step})
        percent = await accuracy(net)
        model_metadata.update(epochs=epoch + 1, steps=step, accuracy=round(percent / 100, 4))
        rate = step / (time.perf_counter() - started)
        report = {"step": step, "total": total, "epoch": epoch + 1, "accuracy": percent}
        hooks.progress(json.dumps({**report, "rate": rate}))
    return json.dumps({"stopped": False, "step": step})


async def predict(pixels_json):
    """The model in use's probabilities (JSON list of 10) for one image (JSON list of 64)."""
    pixels = engine.tensor(json.loads(pixels_json)).reshape(1, 64)
    with engine.no_grad():
        probabilities = F.softmax(model(pixels), dim=1)
    return json.dumps((await probabilities.tolist_async())[0])


# --- the model hub (this page's server; the awaitable twins work in every browser) ---


def problem(error):
    """What went wrong, for the page: the server's status, code and message where it
    answered, else the client's own message."""
    if isinstance(error, hub.HubError):
        if error.status is None:
            return error.message
        return f"the server answered {error.status} {error.code}: {error.message}"
    return str(error)


async def share(repo, token):
    """Push the model in use (with its metadata) to `repo` ("owner/name").
    Returns JSON: {"owner", "name", "version"}, or {"error"}."""
    try:
        record = await hub.push_async(
            model, repo.strip(), token=token.strip(), metadata=model_metadata
        )
    except (hub.HubError, ValueError, TypeError) as error:
        return json.dumps({"error": problem(error)})
    return json.dumps({key: record[key] for key in ("owner", "name", "version")})


def digits_misfit(net):
    """Why `net` cannot classify this page's digits (64 pixels -> 10 scores), or None."""
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if linears:
        inputs, outputs = linears[0].in_features, linears[-1].out_features
        if (inputs, outputs) != (64, 10):
            return (
                f"it takes {inputs} inputs and gives {outputs} outputs, but this demo "
                "needs 64 inputs (8×8 pixels) and 10 outputs (the digits 0–9)"
            )
    try:
        with engine.no_grad():
            shape = tuple(net(engine.zeros(1, 64)).shape)
    except Exception as error:  # any layer that cannot take the image says why
        return f"it cannot take one 8×8 image ({error})"
    if shape != (1, 10):
        return f"for one 8×8 image it gives shape {shape}, not the 10 scores this demo needs"
    return None


async def load_from_hub(repo, version):
    """Load `version` of `repo` ("" or "latest": the newest) and make it the model in use
    if it fits this demo (else the model in use stays). Returns JSON: {"source",
    "accuracy"} (the accuracy stored when it was shared, or null), or {"error"}."""
    repo, version = repo.strip(), version.strip() or "latest"
    try:
        records = (await hub.info_async(repo))["versions"]  # oldest first
        if version == "latest":
            version = str(records[-1]["version"])
        elif version.isdigit():
            version = str(int(version))  # "03" is version 3
        net = await hub.load_model_async(repo, version=version)  # 404 for a missing version
    except (hub.HubError, ValueError, TypeError) as error:
        return json.dumps({"error": f"Could not load {repo}: {problem(error)}"})
    source = f"{repo} version {version}"
    misfit = digits_misfit(net)
    if misfit:
        unchanged = "The model in use is unchanged."
        return json.dumps({"error": f"{source} does not fit this demo: {misfit}. {unchanged}"})
    record = next((r for r in records if str(r["version"]) == version), {"metadata": {}})
    stored = {k: v for k, v in record["metadata"].items() if k not in ENGINE_KEYS}
    use_model(net, {**stored, "based_on": source})
    return json.dumps({"source": source, "accuracy": stored.get("accuracy")})


async def hub_models():
    """JSON list of "owner/name" of the hub's models (newest first, at most 200)."""
    return json.dumps([f"{m['owner']}/{m['name']}" for m in await hub.list_async(limit=200)])
