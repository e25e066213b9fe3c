"""Train a small MLP on the 8x8 handwritten digits that ship with the engine.

Ordinary PyTorch code with the imports swapped (`import engine as torch`); every op runs
as a WGSL compute shader through WebGPU. With its defaults it reaches about 97% test
accuracy in a few seconds, even on a CPU Vulkan driver (Mesa lavapipe).

    make run
    python examples/train_digits.py --epochs 20 --lr 3e-3 --save digits.safetensors
"""

import argparse
import sys
import time

import engine as torch
import engine.nn.functional as F
from engine import nn, optim
from engine.datasets import Digits
from engine.utils.data import DataLoader, TensorDataset


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    parser.add_argument("--hidden", type=int, default=128, help="width of the hidden layer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", metavar="PATH", help="save the state_dict (safetensors)")
    return parser.parse_args(argv)


class ProgressBar:
    """A one-line progress bar redrawn with `\\r` on a terminal.

    When the output is not a terminal (a log file, a pipe, CI) nothing is drawn while
    the epoch runs, and `close` prints the final line once.
    """

    def __init__(self, total, label, width=30, stream=sys.stdout):
        self.total = total
        self.label = label
        self.width = width
        self.stream = stream
        self.interactive = stream.isatty()
        self.drawn = 0  # length of the line on screen, so a shorter one can cover it

    def _line(self, done, message):
        filled = self.width * done // max(self.total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        return f"{self.label} [{bar}] {done}/{self.total} {message}"

    def _draw(self, line, end=""):
        self.stream.write("\r" + line.ljust(self.drawn) + end)
        self.stream.flush()
        self.drawn = len(line)

    def update(self, done, message=""):
        if self.interactive:
            self._draw(self._line(done, message))

    def close(self, message=""):
        if self.interactive:
            self._draw(self._line(self.total, message), end="\n")
        else:
            print(self._line(self.total, message), file=self.stream, flush=True)


def describe_adapter():
    info = torch.device_info()
    return f"{info['device']} | {info['description']} | {info['backend']} ({info['adapter_type']})"


def flat_dataset(dataset):
    """A TensorDataset of (N, 64) images and their labels: whole batches in one gather."""
    images = dataset.data.reshape(len(dataset), -1)
    return TensorDataset(images, dataset.targets)


def accuracy(model, images, labels):
    """The fraction of `images` whose highest logit is at the right label."""
    model.eval()
    with torch.no_grad():
        predictions = model(images).argmax(dim=1)
        correct = (predictions == labels).sum().item()
    model.train()
    return correct / len(labels)


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    print(f"adapter: {describe_adapter()}")

    train_set = flat_dataset(Digits(train=True))
    test_set = Digits(train=False)
    test_images = test_set.data.reshape(len(test_set), -1)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)

    model = nn.Sequential(
        nn.Linear(64, args.hidden),
        nn.ReLU(),
        nn.Linear(args.hidden, 10),
    )
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    print(
        f"train {len(train_set)} / test {len(test_set)} digits, MLP 64-{args.hidden}-10, "
        f"Adam lr={args.lr}, batch {args.batch_size}, {args.epochs} epochs"
    )

    started = time.perf_counter()
    test_accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        bar = ProgressBar(len(loader), f"epoch {epoch:>2}/{args.epochs}")
        epoch_start = time.perf_counter()
        total_loss = 0.0
        for step, (images, labels) in enumerate(loader, start=1):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
            bar.update(step, f"loss {total_loss / step:.4f}")
        seconds = time.perf_counter() - epoch_start
        test_accuracy = accuracy(model, test_images, test_set.targets)
        bar.close(
            f"loss {total_loss / len(loader):.4f} | test acc {100 * test_accuracy:.2f}% "
            f"| {len(loader) / seconds:.1f} steps/s"
        )

    print(
        f"final test accuracy {100 * test_accuracy:.2f}% in {time.perf_counter() - started:.1f} s"
    )
    if args.save:
        torch.save(model.state_dict(), args.save)
        print(f"saved the state_dict to {args.save}")
    return test_accuracy


if __name__ == "__main__":
    main()
