"""Train a tiny digits model, push it to the model exchange, list the hub, and pull it back.

The model is built only from engine.nn's own layers, so its architecture travels in the file
and `engine.hub.load_model` rebuilds it without this script's code. Start a server and make
a token for the owner of the repo first (from the repository root):

    python -m server token create alice --data-dir hub-data     # prints the token last
    python -m server --host 127.0.0.1 --port 8000 --data-dir hub-data
    python examples/hub_push_pull.py --token <token> --repo alice/digits-mlp

`--server` and `--token` default to the environment variables ENGINE_HUB_URL and
ENGINE_HUB_TOKEN (and the server to http://127.0.0.1:8000).
"""

import argparse

import engine
import engine.hub
import engine.nn.functional as F
from engine import nn, optim
from engine.datasets import Digits
from engine.utils.data import DataLoader, TensorDataset


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", help="the hub's URL (default: $ENGINE_HUB_URL)")
    parser.add_argument("--token", help="the owner's token (default: $ENGINE_HUB_TOKEN)")
    parser.add_argument("--repo", default="alice/digits-mlp", help="owner/name to push to")
    parser.add_argument("--epochs", type=int, default=3)
    return parser.parse_args(argv)


def evaluate(model, images, labels):
    with engine.no_grad():
        return (model(images).argmax(dim=1) == labels).sum().item() / len(labels)


def main(argv=None):
    args = parse_args(argv)
    engine.manual_seed(0)
    train_set, test_set = Digits(train=True), Digits(train=False)
    images = train_set.data.reshape(len(train_set), -1)
    test_images = test_set.data.reshape(len(test_set), -1)
    loader = DataLoader(TensorDataset(images, train_set.targets), batch_size=64, shuffle=True)

    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 10))
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(1, args.epochs + 1):
        model.train()
        for batch, labels in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(batch), labels).backward()
            optimizer.step()
        model.eval()
        accuracy = evaluate(model, test_images, test_set.targets)
        print(f"epoch {epoch}: test accuracy {100 * accuracy:.2f}%")

    record = engine.hub.push(
        model,
        args.repo,
        token=args.token,
        metadata={"accuracy": round(accuracy, 4), "dataset": "digits", "epochs": args.epochs},
        server=args.server,
    )
    print(f"pushed {record['owner']}/{record['name']} version {record['version']}")
    print(f"  sha256 {record['sha256']}, {record['size']} bytes")

    print("models on the hub:")
    for entry in engine.hub.list(server=args.server):
        accuracy_note = entry["metadata"].get("accuracy", "?")
        print(
            f"  {entry['owner']}/{entry['name']}: version {entry['latest_version']} "
            f"of {entry['versions']}, accuracy {accuracy_note}"
        )

    pulled = engine.hub.load_model(args.repo, version=record["version"], server=args.server)
    print(f"pulled with load_model:\n{pulled}")
    with engine.no_grad():
        same = engine.equal(pulled(test_images), model(test_images))
    print(f"identical predictions: {same}")
    if not same:
        raise SystemExit("the pulled model computes different outputs")


if __name__ == "__main__":
    main()
