"""Small real datasets: the 8x8 digits (shipped with the engine) and MNIST (read from disk)."""

from engine.datasets.digits import Digits, load_digits
from engine.datasets.mnist import MNIST

__all__ = ["Digits", "MNIST", "load_digits"]
