"""engine/web/train.py natively: the training demo's Python on the native backend, small.

Training is replayed in PyTorch from the same initial weights and the same batches (losses,
final weights, test accuracy); predictions are compared with torch's softmax. Share, Load
from hub and the model list run against a real server (tests/hub_server.py), found through
ENGINE_HUB_URL as the page finds its own origin. In the browser the same functions run
under Pyodide (tests/browser/test_pages.py, tests/browser/test_hub_browser.py).
"""

import asyncio
import json
import math

import numpy as np
import pytest
import torch

import engine
import engine.hub as hub
from engine import nn
from engine.web import runner
from engine.web import train as demo
from tests.hub_server import running_hub, skip_without_server

SMALL = {"hidden": 8, "optimizer": "adam", "lr": 0.05, "epochs": 1, "batch": 256, "seed": 3}
TRAIN_COUNT, TEST_COUNT = 1437, 360


@pytest.fixture(autouse=True)
def _fresh_page(monkeypatch):
    """No model in use, and a page namespace of this test's own."""
    monkeypatch.setattr(demo, "model", None)
    monkeypatch.setattr(demo, "model_metadata", {})
    monkeypatch.setattr(runner, "page_namespace", runner.new_namespace())


class Hooks:
    """What train.js passes to `train`: a progress callback and the Stop flag."""

    def __init__(self, stop_at=None):
        self.stopRequested = False
        self.reports = []
        self.stop_at = stop_at

    def progress(self, report_json):
        self.reports.append(json.loads(report_json))
        if self.stop_at is not None and self.reports[-1]["step"] >= self.stop_at:
            self.stopRequested = True


def torch_mlp(net):
    """The same MLP in PyTorch, with `net`'s weights."""
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    copy = torch.nn.Sequential(
        torch.nn.Linear(64, linears[0].out_features),
        torch.nn.ReLU(),
        torch.nn.Linear(linears[0].out_features, 10),
    )
    state = {k: torch.tensor(v.tolist()) for k, v in net.state_dict().items()}
    copy.load_state_dict(state)
    return copy


def as_torch(tensor):
    return torch.tensor(tensor.tolist())


def test_load_digits_once():
    demo.load_digits()
    first = demo.x_train
    demo.load_digits()
    assert demo.x_train is first
    assert tuple(demo.x_train.shape) == (TRAIN_COUNT, 64)
    assert tuple(demo.x_test.shape) == (TEST_COUNT, 64)
    assert tuple(demo.y_train.shape) == (TRAIN_COUNT,) and tuple(demo.y_test.shape) == (TEST_COUNT,)
    pixels = np.asarray(demo.x_train.tolist())
    assert pixels.min() == 0.0 and pixels.max() == 1.0
    assert sorted(set(demo.y_test.tolist())) == list(range(10))


@pytest.mark.parametrize(
    "optimizer, kind", [("sgd", engine.optim.SGD), ("adam", engine.optim.Adam)]
)
def test_build(optimizer, kind):
    net, chosen = demo.build(12, optimizer, 0.5)
    assert isinstance(chosen, kind) and chosen.param_groups[0]["lr"] == 0.5
    if optimizer == "sgd":
        assert chosen.param_groups[0]["momentum"] == 0.9
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes == {"0.weight": (12, 64), "0.bias": (12,), "2.weight": (10, 12), "2.bias": (10,)}
    x = engine.rand(5, 64)
    with engine.no_grad():
        torch.testing.assert_close(as_torch(net(x)), torch_mlp(net)(as_torch(x)))


def replay_in_torch(config):
    """`train(config)` in PyTorch: the engine's initial weights and batch orders (the same
    seed drawn in the same order), then the same steps. The losses of every step, the net."""
    engine.manual_seed(config["seed"])
    net, _ = demo.build(config["hidden"], config["optimizer"], config["lr"])
    orders = [engine.randperm(TRAIN_COUNT).tolist() for _ in range(config["epochs"])]
    copy = torch_mlp(net)
    if config["optimizer"] == "sgd":
        optimizer = torch.optim.SGD(copy.parameters(), lr=config["lr"], momentum=0.9)
    else:
        optimizer = torch.optim.Adam(copy.parameters(), lr=config["lr"])
    demo.load_digits()
    x, y = as_torch(demo.x_train), torch.tensor(demo.y_train.tolist())
    losses = []
    for order in orders:
        for first in range(0, TRAIN_COUNT, config["batch"]):
            chosen = torch.tensor(order[first : first + config["batch"]])
            loss = torch.nn.functional.cross_entropy(copy(x[chosen]), y[chosen])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses, copy


def torch_accuracy(net):
    with torch.no_grad():
        predicted = net(as_torch(demo.x_test)).argmax(dim=1)
    return 100.0 * (predicted == torch.tensor(demo.y_test.tolist())).float().mean().item()


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_train_matches_torch(optimizer):
    config = {**SMALL, "optimizer": optimizer, "epochs": 2}
    hooks = Hooks()
    answer = json.loads(asyncio.run(demo.train(json.dumps(config), hooks)))
    per_epoch = math.ceil(TRAIN_COUNT / config["batch"])  # 6
    total = 2 * per_epoch
    assert answer == {"stopped": False, "step": total}

    # A loss every READ_LOSS_EVERY steps and at the last one, an accuracy after each epoch.
    steps = [(r["step"], "loss" in r, "accuracy" in r) for r in hooks.reports]
    losses_at = [s for s in range(1, total + 1) if s % demo.READ_LOSS_EVERY == 0 or s == total]
    expected = [(s, True, False) for s in losses_at if s <= per_epoch]
    expected += [(per_epoch, False, True)]
    expected += [(s, True, False) for s in losses_at if s > per_epoch]
    expected += [(total, False, True)]
    assert steps == expected
    for report in hooks.reports:
        assert report["total"] == total and report["rate"] > 0
        assert report["epoch"] == (1 if report["step"] <= per_epoch else 2)

    losses, replayed = replay_in_torch(config)
    for report in hooks.reports:
        if "loss" in report:
            assert report["loss"] == pytest.approx(losses[report["step"] - 1], rel=1e-4, abs=1e-5)
    for name, value in demo.model.state_dict().items():
        torch.testing.assert_close(
            as_torch(value), replayed.state_dict()[name], rtol=1e-3, atol=1e-4
        )
    accuracy = hooks.reports[-1]["accuracy"]
    assert accuracy == pytest.approx(torch_accuracy(replayed), abs=100 / TEST_COUNT + 1e-6)
    reported = [r["loss"] for r in hooks.reports if "loss" in r]
    assert reported[-1] < reported[0] and accuracy > 20  # learning (chance is 10%)

    # The model in use, for Share and for window.runPython.
    assert runner.page_namespace["model"] is demo.model
    assert demo.model_metadata == {
        "dataset": "digits-8x8",
        "trained_in": "browser",
        "epochs": 2,
        "steps": total,
        "hidden": 8,
        "optimizer": optimizer,
        "lr": 0.05,
        "batch": 256,
        "seed": 3,
        "accuracy": round(accuracy / 100, 4),
    }


def test_stop_after_the_step_it_was_asked_during():
    hooks = Hooks(stop_at=demo.READ_LOSS_EVERY)
    answer = json.loads(asyncio.run(demo.train(json.dumps(SMALL), hooks)))
    assert answer == {"stopped": True, "step": demo.READ_LOSS_EVERY}
    assert [r["step"] for r in hooks.reports] == [demo.READ_LOSS_EVERY]
    assert demo.model_metadata["steps"] == demo.READ_LOSS_EVERY
    assert demo.model_metadata["epochs"] == 0 and "accuracy" not in demo.model_metadata
    assert runner.page_namespace["model"] is demo.model  # the stopped model stays in use

    hooks = Hooks()
    hooks.stopRequested = True  # already set: one step, nothing reported
    assert json.loads(asyncio.run(demo.train(json.dumps(SMALL), hooks))) == {
        "stopped": True,
        "step": 1,
    }
    assert hooks.reports == []


def test_accuracy_matches_torch():
    engine.manual_seed(1)
    net, _ = demo.build(16, "adam", 0.01)
    demo.load_digits()
    percent = asyncio.run(demo.accuracy(net))
    assert percent == pytest.approx(torch_accuracy(torch_mlp(net)), abs=100 / TEST_COUNT + 1e-6)


def test_predict_is_the_softmax_of_the_model_in_use():
    engine.manual_seed(2)
    net, _ = demo.build(16, "sgd", 0.1)
    demo.use_model(net, {"from": "test"})
    assert demo.model is net and demo.model_metadata == {"from": "test"}
    assert runner.page_namespace["model"] is net
    pixels = np.random.rand(64).astype(np.float32).tolist()
    probabilities = json.loads(asyncio.run(demo.predict(json.dumps(pixels))))
    assert len(probabilities) == 10 and sum(probabilities) == pytest.approx(1.0, abs=1e-5)
    with torch.no_grad():
        expected = torch.softmax(torch_mlp(net)(torch.tensor([pixels])), dim=1)[0]
    torch.testing.assert_close(torch.tensor(probabilities), expected, rtol=1e-5, atol=1e-6)


def test_digits_misfit():
    assert demo.digits_misfit(demo.build(8, "adam", 0.1)[0]) is None
    wrong = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    assert demo.digits_misfit(wrong) == (
        "it takes 6 inputs and gives 3 outputs, but this demo needs 64 inputs (8×8 pixels) "
        "and 10 outputs (the digits 0–9)"
    )
    assert demo.digits_misfit(nn.Sequential(nn.ReLU())) == (
        "for one 8×8 image it gives shape (1, 64), not the 10 scores this demo needs"
    )
    broken = nn.Sequential(nn.Linear(64, 5), nn.Linear(7, 10))  # the ends fit, the middle not
    assert demo.digits_misfit(broken).startswith("it cannot take one 8×8 image (")


def test_problem():
    assert demo.problem(hub.HubError(None, "connection_error", "no server")) == "no server"
    assert demo.problem(hub.HubError(404, "not_found", "no such model")) == (
        "the server answered 404 not_found: no such model"
    )
    assert demo.problem(ValueError("repo must be 'owner/name'")) == "repo must be 'owner/name'"


# --- the model hub, against a real server ---------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    skip_without_server()
    with running_hub(tmp_path_factory.mktemp("web-train") / "data") as running:
        yield running


@pytest.fixture
def page_origin(server, monkeypatch):
    """The hub the page's functions talk to (in the browser: the page's own origin)."""
    monkeypatch.setenv("ENGINE_HUB_URL", server.url)
    monkeypatch.delenv("ENGINE_HUB_TOKEN", raising=False)
    return server


def call(function, *args):
    return json.loads(asyncio.run(function(*args)))


def test_share_then_load_from_hub(page_origin):
    alice = page_origin.tokens["alice"]
    asyncio.run(demo.train(json.dumps(SMALL), Hooks()))
    trained, metadata = demo.model, dict(demo.model_metadata)

    assert call(demo.share, " alice/web-train ", f" {alice} ") == {
        "owner": "alice",
        "name": "web-train",
        "version": 1,
    }
    stored = hub.info("alice/web-train")["versions"][0]["metadata"]
    assert {k: stored[k] for k in ("dataset", "trained_in", "optimizer")} == {
        "dataset": "digits-8x8",
        "trained_in": "browser",
        "optimizer": "adam",
    }
    assert float(stored["accuracy"]) == metadata["accuracy"]
    assert "alice/web-train" in call(demo.hub_models)

    demo.use_model(None, {})
    for version in ("", "latest", "1", "01"):
        answer = call(demo.load_from_hub, " alice/web-train ", version)
        assert answer == {"source": "alice/web-train version 1", "accuracy": stored["accuracy"]}
    loaded = demo.model
    assert runner.page_namespace["model"] is loaded
    assert not set(demo.model_metadata) & set(demo.ENGINE_KEYS)
    assert demo.model_metadata["based_on"] == "alice/web-train version 1"
    assert demo.model_metadata["dataset"] == "digits-8x8"
    x = demo.x_test[:8]
    with engine.no_grad():
        np.testing.assert_allclose(loaded(x).tolist(), trained(x).tolist(), rtol=1e-6, atol=1e-6)

    # Shared again, the loaded model's metadata travels on, based_on included.
    assert call(demo.share, "alice/web-train", alice)["version"] == 2
    again = hub.info("alice/web-train")["versions"][1]["metadata"]
    assert again["based_on"] == "alice/web-train version 1"


def test_hub_errors_are_answers(page_origin):
    bob = page_origin.tokens["bob"]
    engine.manual_seed(4)
    net, _ = demo.build(8, "adam", 0.1)
    demo.use_model(net, {"from": "test"})

    refused = call(demo.share, "alice/not-bobs", bob)
    assert refused["error"].startswith("the server answered 403 forbidden: ")
    bad = call(demo.share, "alice/x", "wgt_not-a-token")
    assert bad["error"].startswith("the server answered 401 unauthorized: ")
    assert call(demo.share, "no-slash", bob) == {
        "error": "repo must be 'owner/name', got 'no-slash'"
    }

    missing = call(demo.load_from_hub, "bob/no-such-model", "")
    assert missing["error"].startswith(
        "Could not load bob/no-such-model: the server answered 404 not_found: "
    )
    hub.push(net, "bob/web-small", token=bob)
    unknown = call(demo.load_from_hub, "bob/web-small", "9")
    assert unknown["error"].startswith("Could not load bob/web-small: the server answered 404")

    wrong = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    hub.push(wrong, "bob/web-wrong", token=bob)
    assert call(demo.load_from_hub, "bob/web-wrong", "") == {
        "error": "bob/web-wrong version 1 does not fit this demo: it takes 6 inputs and gives "
        "3 outputs, but this demo needs 64 inputs (8×8 pixels) and 10 outputs (the digits "
        "0–9). The model in use is unchanged."
    }
    assert demo.model is net and demo.model_metadata == {"from": "test"}
