"""The API promise: one PyTorch training script, run unchanged with `import torch` and
with `import engine as torch`, gives the same losses step by step."""

import os

import numpy as np

import engine

SCRIPT = """
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def train(weights, images, labels, path):
    model = Net()
    model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    data = TensorDataset(torch.tensor(images), torch.tensor(labels, dtype=torch.long))
    loader = DataLoader(data, batch_size=8, shuffle=False)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    criterion = nn.CrossEntropyLoss()
    losses = []
    for epoch in range(3):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    model.eval()
    with torch.no_grad():
        predictions = model(torch.tensor(images)).argmax(dim=1).tolist()
    torch.save(model.state_dict(), path)
    return losses, predictions
"""


def run(module_name, weights, images, labels, path):
    source = (
        SCRIPT
        if module_name == "torch"
        else SCRIPT.replace("import torch\n", "import engine as torch\n")
        .replace("import torch.", "import engine.")
        .replace("from torch.", "from engine.")
    )
    namespace = {}
    exec(compile(source, f"<script with {module_name}>", "exec"), namespace)
    return namespace["train"](weights, images, labels, path)


def test_same_script_same_losses(tmp_path):
    rng = np.random.default_rng(0)
    weights = {
        "fc1.weight": rng.standard_normal((16, 12)).tolist(),
        "fc1.bias": rng.standard_normal(16).tolist(),
        "fc2.weight": rng.standard_normal((3, 16)).tolist(),
        "fc2.bias": rng.standard_normal(3).tolist(),
    }
    images = rng.standard_normal((40, 12)).tolist()
    labels = rng.integers(0, 3, 40).tolist()
    theirs = run("torch", weights, images, labels, os.path.join(tmp_path, "torch.pt"))
    ours = run("engine", weights, images, labels, os.path.join(tmp_path, "engine.safetensors"))
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4, atol=1e-5)
    assert ours[1] == theirs[1]
    assert ours[0][-1] < ours[0][0]
    # what engine.save wrote loads back into the same model
    state = engine.load(os.path.join(tmp_path, "engine.safetensors"))
    assert sorted(state) == sorted(weights)
