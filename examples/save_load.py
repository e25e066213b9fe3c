"""Save a trained model with `engine.save`, then load it into PyTorch and back into the engine.

Model files are plain safetensors: `safetensors.torch.load_file` reads them into a `torch.nn`
model with the same layers, and `engine.load` reads them (or PyTorch's) back.

    python examples/save_load.py --path digits.safetensors
"""

import argparse
import os
import tempfile

import engine
import engine.nn.functional as F
from engine import nn, optim
from engine.datasets import Digits


def make_model():
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def train_briefly(model, images, labels, steps=50):
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
    print(f"trained {steps} full-batch steps, loss {loss.item():.4f}")


def check_in_pytorch(path, test_images, engine_logits):
    """Load the file into an equivalent torch.nn model; its predictions must match ours."""
    try:
        import torch
        from safetensors.torch import load_file
    except ImportError:
        print("PyTorch or safetensors is not installed: skipping the PyTorch check")
        return
    state = load_file(path)
    print("safetensors.torch.load_file:", {name: tuple(t.shape) for name, t in state.items()})
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    model.load_state_dict(state)
    with torch.no_grad():
        torch_logits = model(torch.tensor(test_images.tolist()))
    ours = torch.tensor(engine_logits.tolist())
    same = torch.equal(torch_logits.argmax(dim=1), ours.argmax(dim=1))
    difference = (torch_logits - ours).abs().max().item()
    print(f"PyTorch: same predictions: {same}, largest logit difference {difference:.2e}")
    if not same:
        raise SystemExit("PyTorch's predictions differ from the engine's")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", help="where to save the model (default: a temporary file)")
    args = parser.parse_args()
    engine.manual_seed(0)

    train_set, test_set = Digits(train=True), Digits(train=False)
    images = train_set.data.reshape(len(train_set), -1)
    test_images = test_set.data.reshape(len(test_set), -1)

    model = make_model()
    train_briefly(model, images, train_set.targets)
    model.eval()
    with engine.no_grad():
        logits = model(test_images)
    accuracy = (logits.argmax(dim=1) == test_set.targets).sum().item() / len(test_set)
    print(f"engine test accuracy {100 * accuracy:.2f}%")

    with tempfile.TemporaryDirectory() as folder:
        path = args.path or os.path.join(folder, "digits.safetensors")
        engine.save(model.state_dict(), path)
        print(f"saved {path} ({os.path.getsize(path)} bytes)")

        check_in_pytorch(path, test_images, logits)

        restored = make_model()
        restored.load_state_dict(engine.load(path))
        restored.eval()
        with engine.no_grad():
            same = engine.equal(restored(test_images), logits)
        print(f"engine.load + load_state_dict: identical logits: {same}")
        if not same:
            raise SystemExit("the reloaded model computes different logits")


if __name__ == "__main__":
    main()
