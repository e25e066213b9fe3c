"""Models cross between the engine and PyTorch as safetensors files, directly and via the hub.

Each direction trains or initialises a model on one side, moves its state_dict to the other
side, and compares the predictions of the same architecture on the same inputs.
"""

import urllib.request

import numpy as np
import pytest
import torch
from safetensors.torch import load, load_file, save, save_file

import engine
import engine.hub as hub
import engine.nn.functional as F
from engine import nn, optim
from tests.hub_server import running_hub, skip_without_server

TOLERANCE = 1e-5
IN, HIDDEN, OUT = 6, 16, 3


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    skip_without_server()
    with running_hub(tmp_path_factory.mktemp("hub") / "data") as running:
        yield running


def inputs():
    return np.random.default_rng(0).standard_normal((10, IN)).astype(np.float32)


def engine_model():
    return nn.Sequential(nn.Linear(IN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, OUT))


def torch_model():
    return torch.nn.Sequential(
        torch.nn.Linear(IN, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, OUT)
    )


def trained_engine_model(steps=5):
    """An engine MLP after a few SGD steps on random data: weights no initialiser produced."""
    model = engine_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = engine.from_numpy(inputs())
    target = engine.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), target).backward()
        optimizer.step()
    return model.eval()


def engine_predictions(model):
    with engine.no_grad():
        return model(engine.from_numpy(inputs())).numpy()


def torch_predictions(model):
    with torch.no_grad():
        return model.eval()(torch.from_numpy(inputs())).numpy()


def assert_same_predictions(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=TOLERANCE, atol=TOLERANCE)


# ----------------------------------------------------------------------------- files


def test_engine_file_loads_in_pytorch(tmp_path):
    model = trained_engine_model()
    path = tmp_path / "model.safetensors"
    engine.save(model.state_dict(), path)
    restored = torch_model()
    restored.load_state_dict(load_file(path))
    assert_same_predictions(torch_predictions(restored), engine_predictions(model))


def test_pytorch_file_loads_in_the_engine(tmp_path):
    model = torch_model()
    path = tmp_path / "model.safetensors"
    save_file(model.state_dict(), path)
    restored = engine_model()
    restored.load_state_dict(engine.load(path), strict=True)
    assert_same_predictions(engine_predictions(restored.eval()), torch_predictions(model))


def test_file_round_trip_engine_pytorch_engine(tmp_path):
    model = trained_engine_model()
    there, back = tmp_path / "there.safetensors", tmp_path / "back.safetensors"
    engine.save(model.state_dict(), there)
    save_file(load_file(there), back)
    restored = engine_model()
    restored.load_state_dict(engine.load(back), strict=True)
    assert_same_predictions(engine_predictions(restored.eval()), engine_predictions(model))


# ----------------------------------------------------------------------------- via the hub


def test_engine_push_pytorch_pull(server):
    model = trained_engine_model()
    record = hub.push(model, "alice/to-torch", token=server.tokens["alice"], server=server.url)
    # Plain HTTP, as a PyTorch user without the engine would download it.
    url = f"{server.url}/api/models/alice/to-torch/versions/{record['version']}/file"
    with urllib.request.urlopen(url) as response:
        data = response.read()
    restored = torch_model()
    restored.load_state_dict(load(data))
    assert_same_predictions(torch_predictions(restored), engine_predictions(model))


def test_pytorch_push_engine_pull(server, tmp_path):
    model = torch_model()
    path = tmp_path / "torch.safetensors"
    save_file({name: t.float() for name, t in model.state_dict().items()}, path)
    request = urllib.request.Request(
        f"{server.url}/api/models/bob/from-torch/versions",
        data=path.read_bytes(),
        headers={
            "Content-Type": "application/octet-stream",
            "Authorization": f"Bearer {server.tokens['bob']}",
        },
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 201
    restored = engine_model()
    restored.load_state_dict(hub.pull("bob/from-torch", server=server.url), strict=True)
    assert_same_predictions(engine_predictions(restored.eval()), torch_predictions(model))


def test_pytorch_bytes_push_engine_load_model_needs_architecture(server):
    # A file from PyTorch carries no engine architecture: load_model says what to do instead.
    data = save(torch_model().state_dict())
    request = urllib.request.Request(
        f"{server.url}/api/models/bob/torch-bytes/versions",
        data=data,
        headers={
            "Content-Type": "application/octet-stream",
            "Authorization": f"Bearer {server.tokens['bob']}",
        },
        method="POST",
    )
    urllib.request.urlopen(request).close()
    with pytest.raises(ValueError, match="stores no architecture"):
        hub.load_model("bob/torch-bytes", server=server.url)
