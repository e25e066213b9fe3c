"""Train an MLP (784-128-10) on MNIST with the engine.

The four IDX files are read from `--data` (default data/mnist; `make mnist` fetches them
offline). With its defaults it reaches about 97.8% test accuracy in 5 epochs, about a
minute on a CPU Vulkan driver (Mesa lavapipe, 2 cores). The progress bar and the accuracy
helper come from train_digits.py, next to this file.

    make mnist
    python examples/train_mnist.py --epochs 5 --batch-size 128 --save mnist.safetensors
"""

import argparse
import os
import sys
import time

from train_digits import ProgressBar, accuracy, describe_adapter

import engine as torch
import engine.nn.functional as F
from engine import nn, optim
from engine.datasets import MNIST
from engine.utils.data import DataLoader, TensorDataset


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="data/mnist", help="folder of the four IDX files")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    parser.add_argument("--hidden", type=int, default=128, help="width of the hidden layer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", metavar="PATH", help="save the state_dict (safetensors)")
    return parser.parse_args(argv)


def load_mnist(root):
    """The train and test sets, or exit with a message saying how to fetch the files."""
    try:
        return MNIST(root, train=True), MNIST(root, train=False)
    except FileNotFoundError as error:
        sys.exit(
            f"error: {error}\n"
            f"MNIST is not in {os.path.abspath(root)}: run `make mnist` from the repository "
            "root (or pass --data FOLDER holding the four IDX files)"
        )


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    print(f"adapter: {describe_adapter()}")

    started = time.perf_counter()
    train_set, test_set = load_mnist(args.data)
    images = train_set.data.reshape(len(train_set), -1)
    loader = DataLoader(
        TensorDataset(images, train_set.targets), batch_size=args.batch_size, shuffle=True
    )
    test_images = test_set.data.reshape(len(test_set), -1)
    print(
        f"read {len(train_set)} + {len(test_set)} images in {time.perf_counter() - started:.1f} s"
    )

    model = nn.Sequential(
        nn.Linear(28 * 28, args.hidden),
        nn.ReLU(),
        nn.Linear(args.hidden, 10),
    )
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    # the learning rate decays to zero over the run: the last epochs settle instead of jitter
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    print(
        f"MLP 784-{args.hidden}-10, Adam lr={args.lr} (cosine decay), batch {args.batch_size}, "
        f"{args.epochs} epochs of {len(loader)} steps"
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
            if step % 10 == 0:
                bar.update(step, f"loss {total_loss / step:.4f}")
        scheduler.step()
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
